import Foundation
import Testing
@testable import Masthead

@Suite("HTTP caching and compression", .serialized)
struct HTTPCachingTests {
    @Test("pages carry a strong ETag and answer 304 to a client that has them", arguments: TestDatabase.available)
    func conditionalRequests(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let path = "/articles/\(article.slug)"
            let first = try await site.get(path)
            let etag = try #require(first.headers.first(name: .eTag))
            #expect(!etag.hasPrefix("W/"))
            #expect(first.headers.first(name: .cacheControl) == "public, max-age=60, s-maxage=60, stale-while-revalidate=30")
            #expect(first.headers.first(name: .lastModified) != nil)
            // The home page's comment counts change while its newest article does not: its tag alone says when it changed.
            #expect(try await site.get("/").headers.first(name: .lastModified) == nil)

            let again = try await site.get(path, headers: [("If-None-Match", etag)])
            #expect(again.status == .notModified)
            #expect(again.bytes.readableBytes == 0)
            let stale = try await site.get(path, headers: [("If-None-Match", "\"something-else\"")])
            #expect(stale.status == .ok)
        }
    }

    @Test("a public page tells shared caches how long to keep it and the keys to purge it by; a signed-in reader's page is the reader's alone", arguments: TestDatabase.available)
    func sharedCaches(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.cdnMaxAge = 3600 }) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            // The second answer comes from the front server's fast path, the first from the route.
            for _ in 0..<2 {
                let page = try await site.get("/articles/\(article.slug)")
                #expect(page.headers.first(name: .cacheControl) == "public, max-age=60, s-maxage=3600, stale-while-revalidate=30")
                #expect(page.headers.first(name: "Surrogate-Key") == "site edition-en article-en-\(article.slug)")
                #expect(page.headers.first(name: "Cache-Tag") == "site,edition-en,article-en-\(article.slug)")
            }
            let keys = [
                "/ar/": "site edition-ar latest-ar", "/news": "site edition-en kind-en-news", "/news/feed.xml": "site edition-en kind-en-news",
                "/feed.xml": "site edition-en latest-en", "/sitemap.xml": "site sitemaps",
            ]
            for (path, expected) in keys {
                #expect(try await site.get(path).headers.first(name: "Surrogate-Key") == expected, "\(path)")
            }

            let reader = try await TestModeJourneyTests.signedInReader(site, email: "reader@example.com")
            let own = try await reader.get("/articles/\(article.slug)")
            #expect(own.headers.first(name: .cacheControl) == "private, no-cache")
            #expect(own.headers.first(name: "Surrogate-Key") == nil)
        }
    }

    @Test("pages are gzipped for clients that accept it", arguments: TestDatabase.available)
    func gzip(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let plain = try await site.get("/news")
            let zipped = try await site.get("/news", headers: [("Accept-Encoding", "gzip, deflate")])
            #expect(zipped.headers.first(name: .contentEncoding) == "gzip")
            #expect(zipped.bytes.readableBytes < plain.bytes.readableBytes / 2)
            #expect(zipped.headers.first(name: .eTag) != plain.headers.first(name: .eTag))
            #expect(zipped.headers.first(name: .vary) == "Accept-Encoding, Cookie")
            let refused = try await site.get("/news", headers: [("Accept-Encoding", "gzip;q=0")])
            #expect(refused.headers.first(name: .contentEncoding) == nil)
        }
    }

    @Test("the stylesheet has a fingerprinted name and is cached for a year", arguments: [TestDatabase.sqlite])
    func fingerprintedAssets(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let home = try await site.get("/")
            let stylesheet = try #require(HTML.attributeValues("href", of: "link rel=\"stylesheet\"", in: home.body).first)
            #expect(stylesheet.range(of: #"^/assets/site\.[0-9a-f]{10}\.css$"#, options: .regularExpression) != nil)

            let css = try await site.get(stylesheet)
            #expect(css.status == .ok)
            #expect(css.headers.first(name: .contentType) == "text/css; charset=utf-8")
            #expect(css.headers.first(name: .cacheControl) == "public, max-age=31536000, immutable")
            #expect(try await site.get("/assets/site.0000000000.css").status == .notFound)
        }
    }

    @Test("publishing a change reaches readers without a restart", arguments: TestDatabase.available)
    func invalidation(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            _ = try await site.get("/articles/\(article.slug)")

            article.title = "A corrected headline for the test"
            try await article.save(on: site.app.db)
            try await ContentGeneration.bump(on: site.app.db, purging: .everything)
            try await Task.sleep(for: .milliseconds(400))

            let page = try await site.get("/articles/\(article.slug)")
            #expect(page.body.contains("A corrected headline for the test"))
        }
    }

    @Test("every response carries the security headers", arguments: [TestDatabase.sqlite])
    func securityHeaders(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            for path in ["/", "/no-such-page"] {
                let page = try await site.get(path)
                #expect(page.headers.first(name: .xContentTypeOptions) == "nosniff")
                #expect(page.headers.first(name: .xFrameOptions) == "DENY")
                #expect(page.headers.first(name: .contentSecurityPolicy)?.contains("script-src 'self'") == true)
                #expect(page.headers.first(name: "Referrer-Policy") == "strict-origin-when-cross-origin")
            }
        }
    }
}
