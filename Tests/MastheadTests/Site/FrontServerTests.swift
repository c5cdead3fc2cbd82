import Foundation
import Testing
import Vapor
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

@Suite("The fast path", .serialized)
struct FastPathTests {
    private func answered(_ site: TestSite) throws -> Int {
        try #require(site.app.storage[CachedPagesKey.self]).answered.load(ordering: .relaxed)
    }

    @Test("a page read a second time is answered by the fast path, also for HEAD and with 304")
    func fastPathFires() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let path = "/articles/\(article.slug)"
            let routed = try await site.get(path)
            #expect(try answered(site) == 0)

            let fast = try await site.get(path)
            #expect(try answered(site) == 1)
            #expect(fast.body == routed.body)

            let head = try await site.app.client.send(.HEAD, to: URI(string: site.baseURL + path))
            #expect(try answered(site) == 2)
            #expect(head.status == .ok && (head.body?.readableBytes ?? 0) == 0)
            #expect(head.headers.first(name: .contentLength) == String(routed.bytes.readableBytes))

            let etag = try #require(routed.headers.first(name: .eTag))
            let unchanged = try await site.get(path, headers: [("If-None-Match", etag)])
            #expect(try answered(site) == 3)
            #expect(unchanged.status == .notModified && unchanged.bytes.readableBytes == 0)
        }
    }

    @Test("links with tracking parameters are answered by the fast path with the same page")
    func trackingParametersShareThePage() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let path = "/articles/\(article.slug)"
            let first = try await site.get(path + "?utm_source=newsletter&utm_medium=email")
            let before = try answered(site)
            let shared = try await site.get(path + "?fbclid=IwAR\(UUID().uuidString)")
            let bare = try await site.get(path)
            #expect(try answered(site) == before + 2)
            #expect(shared.body == first.body && bare.body == first.body)
            #expect(first.body.contains("<link rel=\"canonical\" href=\"https://news.example\(path)\">"))
            let secondPage = try await site.get("/news?page=2&gclid=abc")
            #expect(secondPage.body != (try await site.get("/news")).body)
        }
    }

    @Test("a publish racing cached reads never leaves a gated article's full text on the fast path", arguments: TestDatabase.available)
    func publishRacingReads(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try #require(try await DemoArticles.all(on: site).first {
                $0.edition == "en" && $0.visibility == .public && !DemoArticles.gatedSentences(of: $0).isEmpty
            })
            let gated = try #require(DemoArticles.gatedSentences(of: article).first)
            let path = "/articles/\(article.slug)"
            let deadline = ContinuousClock.now + .seconds(20)
            for round in 0..<8 where ContinuousClock.now < deadline {
                let paid = round % 2 == 0
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask { for _ in 0..<10 { _ = try await site.get(path) } }
                    }
                    group.addTask {
                        article.visibility = paid ? .paid : .public
                        try await article.save(on: site.app.db)
                        _ = try await ContentGeneration.bump(on: site.app.db, purging: .everything)
                    }
                    try await group.waitForAll()
                }
                let settled = try await eventually {
                    let page = try await site.get(path)
                    return HTML.text(of: page.body).contains(gated) != paid
                }
                #expect(settled, "round \(round): the page did not follow the change")
                for _ in 0..<5 {
                    let page = try await site.get(path)
                    #expect(HTML.text(of: page.body).contains(gated) != paid, "round \(round): a stale page was served after the change")
                }
            }
        }
    }
}

@Suite("The fast path for signed-in readers", .serialized)
struct SignedInFastPathTests {
    private func answered(_ site: TestSite) throws -> Int {
        try #require(site.app.storage[CachedPagesKey.self]).answered.load(ordering: .relaxed)
    }

    private func paidMember(_ site: TestSite, until: Date = Date().addingTimeInterval(86_400)) async throws -> (Member, String) {
        let member = Member(email: "paid-\(UUID().uuidString.prefix(8))@example.com", name: "Paid")
        member.paidUntil = until
        try await member.create(on: site.app.db)
        return (member, try await MemberSessions(database: site.app.db, now: Date()).create(for: member))
    }

    @Test("a paying member's article is answered by the fast path in full, for their browser only", arguments: TestDatabase.available)
    func paidMemberOnFastPath(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let (_, session) = try await paidMember(site)
            let cookie = [("Cookie", "mh_session=\(session)")]
            let routed = try await site.get("/articles/\(paid.slug)", headers: cookie)
            // A site just started may empty its caches once, at its first look at the database's
            // generations (late on a loaded machine); the page is then rendered and remembered again.
            var answeredFast: TestSite.Page?
            #expect(try await eventually {
                let before = try answered(site)
                let page = try await site.get("/articles/\(paid.slug)", headers: cookie)
                guard try answered(site) == before + 1 else { return false }
                answeredFast = page
                return true
            })
            let fast = try #require(answeredFast)
            #expect(fast.body == routed.body && !fast.body.contains("class=\"paywall\""))
            #expect(fast.headers.first(name: .cacheControl) == "private, no-cache")

            let anonymous = try await site.get("/articles/\(paid.slug)")
            #expect(anonymous.body.contains("class=\"paywall\""))
        }
    }

    @Test("a session ended anywhere stops reading paid text on the fast path within a poll", arguments: TestDatabase.available)
    func revokedSessionLeavesTheFastPath(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let (_, session) = try await paidMember(site)
            let cookie = [("Cookie", "mh_session=\(session)")]
            _ = try await site.get("/articles/\(paid.slug)", headers: cookie)
            #expect(!(try await site.get("/articles/\(paid.slug)", headers: cookie)).body.contains("class=\"paywall\""))

            try await MemberSessions(database: site.app.db, now: Date()).revoke(token: session)
            #expect(try await eventually { try await site.get("/articles/\(paid.slug)", headers: cookie).body.contains("class=\"paywall\"") })
        }
    }

    @Test("a browser whose session ended is told to forget its cookie")
    func endedSessionCookieIsCleared() async throws {
        try await withSite(on: .sqlite) { site in
            let (_, session) = try await paidMember(site)
            try await MemberSessions(database: site.app.db, now: Date()).revoke(token: session)
            let page = try await site.get("/", headers: [("Cookie", "mh_session=\(session)")])
            let cleared = try #require(page.headers[.setCookie].first { $0.hasPrefix("mh_session=;") })
            #expect(cleared.contains("Max-Age=0") && cleared.contains("Secure") && cleared.contains("HttpOnly"))
        }
    }

    @Test("a plan that lapses is honoured by the fast path when it lapses")
    func lapsedPlan() async throws {
        try await withSite(on: .sqlite) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let (_, session) = try await paidMember(site, until: Date().addingTimeInterval(2))
            let cookie = [("Cookie", "mh_session=\(session)")]
            _ = try await site.get("/articles/\(paid.slug)", headers: cookie)
            #expect(!(try await site.get("/articles/\(paid.slug)", headers: cookie)).body.contains("class=\"paywall\""))
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await site.get("/articles/\(paid.slug)", headers: cookie).body.contains("class=\"paywall\""))
        }
    }

    @Test("a free member whose reads the meter counts is always answered by the router")
    func meteredMembersAreRouted() async throws {
        try await withSite(on: .sqlite, configure: { $0.memberMeter = 2 }) { site in
            let member = Member(email: "free@example.com", name: "Free")
            try await member.create(on: site.app.db)
            let session = try await MemberSessions(database: site.app.db, now: Date()).create(for: member)
            let publicArticle = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            for _ in 0..<3 { _ = try await site.get("/articles/\(publicArticle.slug)", headers: [("Cookie", "mh_session=\(session)")]) }
            #expect(try answered(site) == 0)
        }
    }
}
