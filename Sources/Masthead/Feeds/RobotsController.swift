import Vapor

/// `/robots.txt` (RFC 9309): the public site may be crawled; the admin and readers' account
/// pages are not for search engines (they also say `noindex`).
struct RobotsController: Sendable {
    func register(on routes: any RoutesBuilder) {
        let body = PreparedBody(bytes: ByteBuffer(string: "User-agent: *\nAllow: /\nDisallow: \(AdminURL.root)\n"), contentType: "text/plain; charset=utf-8")
        routes.get("robots.txt") { req in
            body.response(to: req, cacheControl: "public, max-age=3600")
        }
    }
}
