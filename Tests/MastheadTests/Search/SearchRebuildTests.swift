import Fluent
import Foundation
import SQLKit
import Synchronization
import Testing
@testable import Masthead

/// Rebuilding the search index as a job: asked for in the admin or on the command line, run by
/// one instance, followed on a progress page, and finished by another if its instance dies.
@Suite("Search index rebuilds", .serialized)
struct SearchRebuildTests {
    static func filed(_ site: TestSite) async throws -> Int {
        try SearchSQL.total(try await (site.app.db as! any SQLDatabase).raw("SELECT count(DISTINCT article_id) AS total FROM search_documents").first())
    }

    static func published(_ site: TestSite) async throws -> Int {
        try await Article.query(on: site.app.db).filter(\.$status == .published).count()
    }

    /// Takes some published articles out of the index, as a restore that left the index behind would.
    static func forgetSome(_ site: TestSite) async throws {
        let ids = try await Article.query(on: site.app.db).filter(\.$status == .published).limit(7).all().map { try $0.requireID() }
        try await SearchIndexes.forDatabase(site.app.db).remove(articleIDs: ids, on: site.app.db as! any SQLDatabase)
    }

    static func waitUntilEnded(_ site: TestSite) async throws -> SearchRebuild {
        for _ in 0..<600 {
            if let latest = try await SearchRebuilds(database: site.app.db).latest(1).first, !latest.isOpen { return latest }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("the rebuild did not end within a minute")
    }

    @Test("an admin asks for a rebuild, follows it on a page that refreshes itself, and finds every published article filed", arguments: TestDatabase.available)
    func adminRebuild(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            try await Self.forgetSome(site)
            let published = try await Self.published(site)
            let (admin, staff) = try await Newsroom.signedIn(site, as: .admin)
            let page = try await admin.get("/admin/search-index")
            #expect(page.status == .ok)
            #expect(HTML.text(of: page.body).contains("Articles in the index \(published - 7)"))

            let asked = try await admin.submit(page, action: "/admin/search-index/rebuild")
            #expect(asked.status == .seeOther)
            let ended = try await Self.waitUntilEnded(site)

            #expect(ended.status == .finished)
            #expect(ended.requestedBy == staff.email)
            #expect(ended.done == published)
            #expect(try await Self.filed(site) == published)
            let after = try await admin.get("/admin/search-index")
            #expect(after.headers.first(name: "Refresh") == nil)
            #expect(HTML.text(of: after.body).contains("Articles in the index \(published)"))
            #expect(HTML.text(of: after.body).contains("\(staff.email) finished \(published)"))
            #expect(try await AuditEvent.query(on: site.app.db).filter(\.$action == "asked for a search index rebuild").count() == 1)
        }
    }

    @Test("a finished rebuild on PostgreSQL leaves the planner statistics of the rows it filed", .enabled(if: TestDatabase.postgresURL != nil))
    func postgresStatistics() async throws {
        try await withSite(on: .postgres) { site in
            let sql = site.app.db as! any SQLDatabase
            let analysed = "SELECT COALESCE(EXTRACT(EPOCH FROM last_analyze), 0) AS at FROM pg_stat_user_tables WHERE relname = 'search_documents'"
            let before = try #require(try await sql.raw(SQLQueryString(analysed)).first()).decode(column: "at", as: Double.self)
            _ = try await SearchRebuilds(database: site.app.db).request(by: SearchRebuilds.commandLine)
            #expect(try await Self.waitUntilEnded(site).status == .finished)
            #expect(try await eventually {
                try await sql.raw(SQLQueryString(analysed)).first()!.decode(column: "at", as: Double.self) > before
            })
        }
    }

    @Test("a rebuild on PostgreSQL lays the index's rows on disk oldest first, so that a month's rows are neighbours", .enabled(if: TestDatabase.postgresURL != nil))
    func postgresRowsInKeyOrder() async throws {
        try await withSite(on: .postgres, configure: { $0.backgroundJobs = false }) { site in
            let sql = site.app.db as! any SQLDatabase
            // How far each row lies on disk from its place in key order.
            let displacements = {
                let onDisk = try await sql.raw("SELECT id FROM search_documents ORDER BY ctid").all().map { try $0.decode(column: "id", as: Int64.self) }
                let inKeyOrder = Dictionary(uniqueKeysWithValues: onDisk.sorted().enumerated().map { ($1, $0) })
                return onDisk.enumerated().map { abs($0 - inKeyOrder[$1]!) }
            }
            // Rows in the order of their articles' ids, which says nothing of when they were published.
            try await sql.raw("CLUSTER search_documents USING search_documents_article").run()
            let batch = 7
            #expect(try await displacements().contains { $0 >= 4 * batch }, "the site's rows were already near key order")

            // One batch at a time: two connections extending a table at once are handed blocks
            // in bunches, whose order under load says nothing of which batch came first.
            let rebuilds = SearchRebuilds(database: site.app.db, batchSize: batch, lanes: 1)
            _ = try await rebuilds.request(by: SearchRebuilds.commandLine)
            #expect(try await rebuilds.run(try #require(try await rebuilds.claim())) == .finished(articles: try await Self.published(site)))

            // A row may go into the space left on the last page before the rebuild (a batch is one or two rows per article).
            #expect(try await displacements().allSatisfy { $0 < 2 * batch })
        }
    }

    @Test("while a rebuild waits, asking again starts nothing more, the page shows its progress, and cancelling it ends it")
    func oneAtATime() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let first = try await admin.submit(try await admin.get("/admin/search-index"), action: "/admin/search-index/rebuild")
            #expect(first.headers.first(name: .location) == "/admin/search-index?done=queued")
            guard case .alreadyOpen = try await SearchRebuilds(database: site.app.db).request(by: SearchRebuilds.commandLine) else {
                Issue.record("a second rebuild was queued beside the first")
                return
            }
            let waiting = try await admin.get("/admin/search-index")
            #expect(waiting.headers.first(name: "Refresh") == "10")
            #expect(waiting.body.contains("<progress"))
            #expect(HTML.text(of: waiting.body).contains("Waiting for an instance that runs background jobs"))
            #expect(!waiting.body.contains("action=\"/admin/search-index/rebuild\""))
            let open = try #require(try await SearchRebuilds(database: site.app.db).open())

            let cancelled = try await admin.submit(waiting, action: "/admin/search-index/\(try open.requireID())/cancel")
            #expect(cancelled.headers.first(name: .location) == "/admin/search-index?done=cancelled")
            #expect(try await SearchRebuild.find(open.id, on: site.app.db)?.status == .cancelled)
            let after = try await admin.get("/admin/search-index")
            #expect(after.body.contains("action=\"/admin/search-index/rebuild\""))
            #expect(try await SearchRebuilds(database: site.app.db).claim() == nil)
        }
    }

    @Test("editors, authors and contributors cannot reach the search index page")
    func onlyAdmins() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            #expect(try await editor.get("/admin/search-index").status == .forbidden)
            #expect(!(try await editor.get("/admin").body.contains("href=\"/admin/search-index\"")))
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let page = try await owner.get("/admin/search-index")
            #expect(try await editor.post("/admin/search-index/rebuild", form: ["csrf": HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: page.body).first ?? ""]).status == .forbidden)
            #expect(try await SearchRebuilds(database: site.app.db).open() == nil)
        }
    }

    @Test("an instance whose claim lapsed stops at its next batch, and the one that took the rebuild over goes on after the last article filed", arguments: TestDatabase.available)
    func takenOver(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            try await Self.forgetSome(site)
            let published = try await Self.published(site)
            let rebuilds = SearchRebuilds(database: site.app.db, batchSize: 5)
            _ = try await rebuilds.request(by: "editor@newsroom.example")
            let first = try #require(try await rebuilds.claim())
            #expect(try await rebuilds.claim() == nil, "a live claim was taken")
            let takeover = Mutex<SearchRebuild?>(nil)

            let outcome = try await rebuilds.run(first) { progress in
                guard progress.done == 5, takeover.withLock({ $0 == nil }) else { return }
                // The first instance stalls past its lease; another claims the rebuild.
                try? await (site.app.db as! any SQLDatabase).raw("UPDATE search_rebuilds SET claimed_until = \(bind: Date().addingTimeInterval(-1))").run()
                let taken = try? await rebuilds.claim()
                takeover.withLock { $0 = taken }
            }

            #expect(outcome == .stopped)
            let second = try #require(takeover.withLock { $0 })
            #expect(second.done == 5)
            #expect(second.resumeFrom != nil)
            let reports = Mutex<[Int]>([])
            let finished = try await rebuilds.run(second) { progress in reports.withLock { $0.append(progress.done) } }
            #expect(finished == .finished(articles: published))
            #expect(reports.withLock { $0.first } == 5)
            #expect(try await Self.filed(site) == published)
            #expect(try await SearchRebuild.find(second.id, on: site.app.db)?.status == .finished)
        }
    }

    @Test("an instance shutting down mid-rebuild hands it on at once, and the next finishes it")
    func handedOn() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            try await Self.forgetSome(site)
            let rebuilds = SearchRebuilds(database: site.app.db, batchSize: 5)
            _ = try await rebuilds.request(by: SearchRebuilds.commandLine)
            let first = try #require(try await rebuilds.claim())
            let outcome = try await Task {
                try await rebuilds.run(first) { progress in
                    if progress.done == 10 { withUnsafeCurrentTask { $0?.cancel() } }
                }
            }.value
            #expect(outcome == .stopped)
            let next = try #require(try await rebuilds.claim())
            #expect(next.status == .running)
            #expect(next.done >= 10)
            #expect(try await rebuilds.run(next) == .finished(articles: try await Self.published(site)))
            #expect(try await Self.filed(site) == (try await Self.published(site)))
        }
    }

    @Test("a rebuild whose instance keeps dying is given up after three takeovers, and a hand-on at shutdown is not counted")
    func givenUp() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.backgroundJobs = false }) { site in
            let rebuilds = SearchRebuilds(database: site.app.db)
            let sql = site.app.db as! any SQLDatabase
            _ = try await rebuilds.request(by: SearchRebuilds.commandLine)
            _ = try #require(try await rebuilds.claim())
            // Handed on at shutdown: no claim left behind.
            try await sql.raw("UPDATE search_rebuilds SET claim = NULL, claimed_until = \(bind: Date.distantPast)").run()
            #expect(try #require(try await rebuilds.claim()).takeovers == 0)
            for died in 1...SearchRebuilds.mostTakeovers {
                try await sql.raw("UPDATE search_rebuilds SET claimed_until = \(bind: Date().addingTimeInterval(-1))").run()
                #expect(try #require(try await rebuilds.claim()).takeovers == died)
            }
            try await sql.raw("UPDATE search_rebuilds SET claimed_until = \(bind: Date().addingTimeInterval(-1))").run()
            #expect(try await rebuilds.claim() == nil)
            let ended = try #require(try await rebuilds.latest(1).first)
            #expect(ended.status == .failed)
            #expect(ended.failure?.contains("stopped 3 times") == true)
            #expect(try await rebuilds.open() == nil)
        }
    }

    @Test("masthead reindex shows its progress and files every published article; it refuses, in one line, while another instance rebuilds")
    func commandLine() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            guard case .sqlite(let path) = site.settings.database else { return }
            let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": site.settings.dataDirectory]
            try await Self.forgetSome(site)
            let published = try await Self.published(site)

            let result = try await MastheadProcess.run(["reindex"], environment: environment)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("] \(published)/\(published) articles"))
            #expect(result.standardOutput.contains("Indexed \(published) published articles"))
            #expect(try await Self.filed(site) == published)
            #expect(try await SearchRebuild.query(on: site.app.db).filter(\.$requestedBy == SearchRebuilds.commandLine).filter(\.$status == .finished).count() == 1)

            let rebuilds = SearchRebuilds(database: site.app.db)
            _ = try await rebuilds.request(by: "admin@newsroom.example")
            _ = try #require(try await rebuilds.claim())
            let refused = try await MastheadProcess.run(["reindex"], environment: environment)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("another instance is rebuilding the search index"))
            #expect(refused.standardError.split(separator: "\n").count == 1)
        }
    }
}
