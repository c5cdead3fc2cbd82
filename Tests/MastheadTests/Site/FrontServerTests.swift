import Foundation
import Testing
@testable import Masthead

/// Masthead's own HTTP server: cached pages before routing, everything else through Vapor.
@Suite("The front server", .serialized)
struct FrontServerTests {
    @Test("a cached page is answered the same from the cache as through the router", arguments: [TestDatabase.sqlite])
    func fastPathMatchesRouter(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let routed = try await site.get("/news?page=2")
            let cached = try await site.get("/news?page=2")
            #expect(routed.status == .ok && cached.status == .ok)
            #expect(routed.body == cached.body)
            for header in ["ETag", "Cache-Control", "Vary", "Last-Modified", "Content-Type", "X-Frame-Options", "Content-Security-Policy"] {
                #expect(routed.headers.first(name: header) == cached.headers.first(name: header), "\(header)")
            }
        }
    }

    @Test("a signed-in reader is never answered from the anonymous cache", arguments: [TestDatabase.sqlite])
    func membersBypassTheFastPath(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let membersOnly = try await DemoArticles.first(on: site, edition: "en", visibility: .members)
            _ = try await site.get("/articles/\(membersOnly.slug)")
            let anonymous = try await site.get("/articles/\(membersOnly.slug)")
            #expect(anonymous.body.contains("class=\"paywall\""))

            let member = Member(email: "fast@example.com", name: "Fast")
            try await member.create(on: site.app.db)
            let session = try await MemberSessions(database: site.app.db, now: Date()).create(for: member)
            let page = try await site.get("/articles/\(membersOnly.slug)", headers: [("Cookie", "mh_csrf=x; mh_session=\(session)")])
            #expect(!page.body.contains("class=\"paywall\""))
            #expect(page.headers.first(name: .cacheControl) == "private, no-cache")
        }
    }

    @Test("an HTTP/1.0 client gets its answer and the connection is closed")
    func http10() async throws {
        try await withSite(on: .sqlite) { site in
            let result = try await ExternalTool.run("curl", ["-s", "--http1.0", "-D", "-", "-o", "/dev/null", site.baseURL + "/news"])
            #expect(result.output.hasPrefix("HTTP/1.0 200"))
            #expect(result.output.lowercased().contains("connection: close"))
        }
    }

    @Test("an oversized request body is refused with 413")
    func oversizedBody() async throws {
        try await withSite(on: .sqlite) { site in
            let browser = TestBrowser(site: site)
            let page = try await browser.post("/signin", form: ["email": String(repeating: "a", count: 3 * 1024 * 1024)])
            #expect(page.status == .payloadTooLarge)
        }
    }
}
