import Vapor

/// `/robots.txt` (RFC 9309): the public site may be crawled; the admin and readers' account
/// pages are not for search engines (they also say `noindex`). It names the sitemaps.
struct RobotsController: Sendable {
    let publicURL: String

    func register(on routes: any RoutesBuilder) {
        let text = """
            User-agent: *
            Allow: /
            Disallow: \(AdminURL.root)

            Sitemap: \(publicURL)\(SitemapController.index)
            Sitemap: \(publicURL)\(SitemapController.news)

            """
        let body = PreparedBody(bytes: ByteBuffer(string: text), contentType: "text/plain; charset=utf-8")
        routes.get("robots.txt") { req in
            body.response(to: req, cacheControl: "public, max-age=3600")
        }
    }
}
