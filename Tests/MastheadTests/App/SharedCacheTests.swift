import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
@testable import Masthead

/// The shared caches of the `deploy/` folder in front of a real site: anonymous readers share
/// one copy, a signed-in reader's page is never stored, and Varnish forgets an edited page as
/// soon as Masthead tells it.
@Suite("Behind a shared cache", .serialized, .enabled(if: SharedCache.available))
struct SharedCacheTests {
    static func port(of site: TestSite) throws -> Int {
        guard let port = URL(string: site.baseURL)?.port else { throw TestSupportError("no port in \(site.baseURL)") }
        return port
    }

    static func get(_ url: String, through site: TestSite, cookie: String? = nil) async throws -> (status: HTTPStatus, cache: String?, body: String) {
        let response = try await site.app.client.get(URI(string: url), headers: HTTPHeaders(cookie.map { [("Cookie", $0)] } ?? []))
        let cache = response.headers.first(name: "X-Cache-Status") ?? response.headers.first(name: "X-Cache")
        return (response.status, cache, response.body.map { String(buffer: $0) } ?? "")
    }

    /// A paying member signed in on the site; the Cookie header their browser sends.
    static func payingReaderCookie(_ site: TestSite) async throws -> String {
        let member = Member(email: "subscriber@example.com", name: "Subscriber")
        member.paidUntil = Date().addingTimeInterval(365 * 24 * 3600)
        try await member.create(on: site.app.db)
        let browser = try await TestModeJourneyTests.signedInReader(site, email: member.email)
        #expect(browser.cookies[MemberSessions.cookieName] != nil)
        return browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
    }

    /// What the two caches must both do with a paid article: one copy of the preview for every
    /// anonymous reader, the full text for the paying one and never stored.
    static func keepsSignedInPagesOut(_ cache: SharedCache, _ site: TestSite) async throws {
        let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
        let gated = try #require(DemoArticles.gatedSentences(of: paid).first)
        let path = "\(cache.url)/articles/\(paid.slug)"
        var first = try await get(path, through: site)
        for _ in 0..<50 where first.status == .serviceUnavailable {
            // Varnish waits for its first probe of /readyz before it sends anyone to the site.
            try await Task.sleep(for: .milliseconds(200))
            first = try await get(path, through: site)
        }
        #expect(first.status == .ok && first.cache == "MISS")
        let second = try await get(path, through: site)
        #expect(second.cache == "HIT" && second.body.contains("class=\"paywall\"") && !second.body.contains(gated))

        let cookie = try await payingReaderCookie(site)
        let member = try await get(path, through: site, cookie: cookie)
        #expect(member.cache != "HIT" && member.body.contains(gated) && !member.body.contains("class=\"paywall\""))
        // An address only the member has asked for is still not in the cache afterwards.
        let fresh = "\(path)?utm_source=newsletter"
        #expect(try await get(fresh, through: site, cookie: cookie).body.contains(gated))
        let after = try await get(fresh, through: site)
        #expect(after.cache == "MISS" && !after.body.contains(gated))
    }

    /// Runs the body with the cache started, stopping it whatever happens.
    static func with(_ cache: SharedCache, _ body: (SharedCache) async throws -> Void) async throws {
        do {
            try await body(cache)
        } catch {
            await cache.stop()
            throw error
        }
        await cache.stop()
    }

    @Test("behind the deploy folder's nginx, anonymous readers share one copy and a signed-in reader's page is never stored")
    func nginx() async throws {
        try await withSite(on: .sqlite) { site in
            try await Self.with(try await SharedCache.nginx(upstreamPort: try Self.port(of: site))) { cache in
                try await Self.keepsSignedInPagesOut(cache, site)
            }
        }
    }

    @Test("behind the deploy folder's Varnish, an edited article is purged as soon as it is saved, and a signed-in reader's page is never stored")
    func varnish() async throws {
        let varnishPort = try SharedCache.freePort(), purgePort = try SharedCache.freePort()
        try await withSite(on: .sqlite, configure: {
            $0.cdnMaxAge = 3600
            $0.cdnPurge = CDNPurgeHook(url: URL(string: "http://127.0.0.1:\(purgePort)/")!, style: .varnish, token: nil)
        }) { site in
            try await Self.with(try await SharedCache.varnish(upstreamPort: try Self.port(of: site), port: varnishPort, purgePort: purgePort)) { cache in
                try await Self.keepsSignedInPagesOut(cache, site)
                // Readers, even those who seem to come from this machine, cannot purge.
                let purge = try await site.app.client.send(.RAW(value: "PURGE"), headers: ["xkey-purge": "site"], to: URI(string: "\(cache.url)/"))
                #expect(purge.status == .methodNotAllowed)

                let first = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
                let path = "\(cache.url)/articles/\(first.slug)"
                _ = try await Self.get(path, through: site)
                #expect(try await Self.get(path, through: site).cache == "HIT")
                try await CDNPurgeTests.edit(first, on: site) { $0.title = "Crossing reopened, officials say" }
                #expect(try await waitUntil { try await Self.get(path, through: site).body.contains("Crossing reopened, officials say") })
            }
        }
    }

    @Test("the deploy folder's nginx site is valid as shipped, given its certificate")
    func nginxSiteIsValid() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-nginx-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = try await SelfSignedCertificate.make()
        let nginx = SharedCache.deploy.appendingPathComponent("nginx").path
        let site = try String(contentsOfFile: "\(nginx)/masthead.conf", encoding: .utf8)
            .replacingOccurrences(of: "/etc/nginx/masthead/", with: "\(nginx)/")
            .replacingOccurrences(of: "/etc/letsencrypt/live/news.example.com/fullchain.pem", with: certificate.cert)
            .replacingOccurrences(of: "/etc/letsencrypt/live/news.example.com/privkey.pem", with: certificate.key)
            .replacingOccurrences(of: "/var/cache/nginx/masthead", with: "\(folder.path)/cache")
        try site.write(to: folder.appendingPathComponent("site.conf"), atomically: true, encoding: .utf8)
        let main = """
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log;
            events {}
            http { include \(folder.path)/site.conf; }
            """
        try main.write(to: folder.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let checked = try await ExternalTool.run(try #require(SharedCache.executable("nginx")), ["-t", "-c", "\(folder.path)/nginx.conf", "-p", folder.path])
        #expect(checked.status == 0, "\(checked.output)")
    }
}
