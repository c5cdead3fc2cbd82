import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
@testable import Masthead

/// Several instances on one database, as a site that has outgrown one machine runs: each hears
/// of a change made on another as it commits, the roles split serving from background work,
/// and each says whether it is alive and whether it should be sent readers.
@Suite("Several instances on one database", .serialized)
struct InstancesTests {
    /// The poll alone would take a minute to notice anything: only a change heard as it
    /// commits can reach the other instance within the test's few seconds.
    static func slowPolling(_ settings: inout Settings) {
        settings.generationWatchInterval = .seconds(60)
    }

    static func unpublish(_ article: Article, on site: TestSite) async throws {
        try await site.app.db.transaction { db in
            article.status = .draft
            try await article.save(on: db)
            try await ContentGeneration.bump(on: db, purging: .everything)
        }
    }

    /// The backends listening for the site's changes, one per running instance.
    static func listeners(_ site: TestSite) async throws -> Int {
        try await (site.app.db as! any SQLDatabase)
            .raw("SELECT count(*) AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND datname = current_database()")
            .first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Two instances on the PostgreSQL test database, both listening, the second having served
    /// (and cached) a public article.
    static func withTwoInstances(_ body: (TestSite, TestSite, Article) async throws -> Void) async throws {
        try await withSite(on: .postgres, configure: Self.slowPolling) { site in
            try await site.withSecondInstance { second in
                let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
                #expect(try await waitUntil(seconds: 20) { try await Self.listeners(site) == 2 })
                #expect(try await second.get("/articles/\(article.slug)").status == .ok)
                try await body(site, second, article)
            }
        }
    }

    @Test("on PostgreSQL, an unpublish on one instance empties another's cache at once, without waiting for its poll", .enabled(if: TestDatabase.available.contains(.postgres)))
    func changeHeardAtOnce() async throws {
        try await Self.withTwoInstances { site, second, article in
            try await Self.unpublish(article, on: site)
            #expect(try await waitUntil(seconds: 20) { try await second.get("/articles/\(article.slug)").status == .notFound })
        }
    }

    @Test("when the listening connection is cut, the instance connects again and hears the next change", .enabled(if: TestDatabase.available.contains(.postgres)))
    func listeningResumes() async throws {
        try await Self.withTwoInstances { site, second, article in
            try await (site.app.db as! any SQLDatabase).raw("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE query ILIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()
                """).run()
            #expect(try await waitUntil(seconds: 20) { try await Self.listeners(site) == 2 }, "both instances listen again")

            try await Self.unpublish(article, on: site)
            #expect(try await waitUntil(seconds: 20) { try await second.get("/articles/\(article.slug)").status == .notFound })
        }
    }

    @Test("an instance is alive whatever its database, and ready only while the database answers with every migration it knows", arguments: TestDatabase.available)
    func healthAndReadiness(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let ready = try await site.get("/readyz")
            #expect(ready.status == .ok && ready.body == "ready\n")
            #expect(ready.headers.first(name: .cacheControl) == "no-store")

            // As if the database had been restored from an older build's backup.
            let newest = try #require(MastheadMigrations.all.last?.name)
            try await (site.app.db as! any SQLDatabase).raw("DELETE FROM _fluent_migrations WHERE name = \(bind: newest)").run()
            let behind = try await site.get("/readyz")
            #expect(behind.status == .serviceUnavailable)
            #expect(behind.body == "not ready: the database lacks 1 of this build's migrations (run masthead migrate)\n")
            let alive = try await site.get("/healthz")
            #expect(alive.status == .ok && alive.body == "ok\n")
        }
    }

    @Test("a web instance serves readers and publishes nothing on schedule; a worker does, and the web instance serves it at once", .enabled(if: TestDatabase.available.contains(.postgres)))
    func rolesSplitTheWork() async throws {
        try await withSite(on: .postgres, configure: { $0.backgroundJobs = false }) { site in
            guard case .postgres(let databaseURL) = site.settings.database else { return }
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            try await site.app.db.transaction { db in
                article.status = .scheduled
                article.publishedAt = Date().addingTimeInterval(-60)
                try await article.save(on: db)
                try await ContentGeneration.bump(on: db, purging: .everything)
            }
            let environment = [
                "MASTHEAD_DATABASE_URL": databaseURL, "MASTHEAD_DATA": site.settings.dataDirectory,
                "MASTHEAD_PUBLIC_URL": site.settings.publicURL, "MASTHEAD_DEV_MAIL": "1",
            ]
            let web = try MastheadProcess.start(["serve", "--role", "web", "--port", "0"], environment: environment)
            defer { web.terminate() }
            let serving = try #require(try await web.waitForLine(containing: "Masthead is serving"))
            #expect(serving.contains("(web: background jobs run on a worker)"))
            let base = try #require(serving.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+/)).output
            let articleURL = URI(string: "\(base)/articles/\(article.slug)")
            #expect(try await site.app.client.get(URI(string: "\(base)/readyz")).status == .ok)
            #expect(try await site.app.client.get(articleURL).status == .notFound)
            // Two of its scheduler's passes, were it running one.
            try await Task.sleep(for: .seconds(5))
            #expect(try await Article.find(article.id, on: site.app.db)?.status == .scheduled)

            let worker = try MastheadProcess.start(["serve", "--role", "worker"], environment: environment)
            defer { worker.terminate() }
            #expect(try await worker.waitForLine(containing: "Masthead worker running") != nil)
            #expect(try await waitUntil(seconds: 30) { try await site.app.client.get(articleURL).status == .ok })
        }
    }

    @Test("instances started at once on a new PostgreSQL database migrate it once between them, and all start", .enabled(if: TestDatabase.available.contains(.postgres)))
    func migrationsTakeTurns() async throws {
        // The site holds the turn on the PostgreSQL test databases; the migrations go to the second.
        try await withSite(on: .postgres, withDemo: false) { _ in
            let target = try #require(try await BackupTests.emptyTarget(like: .postgres))
            guard case .postgres(let url) = target.database else { return }
            let environment = ["MASTHEAD_DATABASE_URL": url, "MASTHEAD_DATA": target.dataDirectory]
            let results = try await withThrowingTaskGroup(of: MastheadProcess.Result.self) { group in
                for _ in 0..<3 { group.addTask { try await MastheadProcess.run(["migrate"], environment: environment) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for result in results { #expect(result.status == 0, "\(result.standardError)") }
            let app = try await MastheadApp.make(settings: target)
            let recorded = try await (app.db as! any SQLDatabase).raw("SELECT count(*) AS n FROM _fluent_migrations").first()?.decode(column: "n", as: Int.self)
            await MastheadApp.stop(app)
            #expect(recorded == MastheadMigrations.all.count)
        }
    }

    @Test("a client searching through two instances gets one allowance between them, not one each", .enabled(if: TestDatabase.available.contains(.postgres)))
    func rateLimitsHoldAcrossInstances() async throws {
        try await withSite(on: .postgres, configure: { $0.apiRequestsPerMinute = 6 }) { site in
            try await site.withSecondInstance { second in try await Self.oneAllowance(site, second) }
        }
    }

    static func oneAllowance(_ site: TestSite, _ second: TestSite) async throws {
        // The limits count per clock minute: start early in one, so that all of this falls in it.
        let secondsLeft = 60 - Int(Date().timeIntervalSince1970) % 60
        if secondsLeft < 25 { try await Task.sleep(for: .seconds(secondsLeft)) }
        let sql = site.app.db as! any SQLDatabase
        let counted = { try await sql.raw("SELECT CAST(coalesce(sum(count), 0) AS BIGINT) AS n FROM rate_windows WHERE scope = 'search'").first()?.decode(column: "n", as: Int.self) ?? 0 }
        for _ in 0..<6 { #expect(try await site.get("/search?q=water").status == .ok) }
        #expect(try await waitUntil(seconds: 10) { try await counted() == 6 })
        // The second instance learns the total with its first share for this client.
        _ = try await second.get("/search?q=water")
        #expect(try await waitUntil(seconds: 10) { try await counted() == 7 })
        try await Task.sleep(for: .milliseconds(200))
        let limited = try await second.get("/search?q=water")
        #expect(limited.status == .tooManyRequests)
        #expect(limited.headers.first(name: "Retry-After") != nil)
        #expect(try await site.get("/search?q=water").status == .tooManyRequests)
    }

    @Test("a role Masthead does not have is refused in one line")
    func unknownRole() async throws {
        let result = try await MastheadProcess.run(["serve", "--role", "reader"], environment: ["MASTHEAD_DATA": FileManager.default.temporaryDirectory.appendingPathComponent("masthead-role-\(UUID().uuidString)").path])
        #expect(result.status != 0)
        #expect(result.standardError.contains("the role must be one of web, worker, all, got 'reader'"))
        #expect(result.standardError.split(separator: "\n").count == 1)
    }
}
