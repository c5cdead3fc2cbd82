import Fluent
import Foundation
import Testing
@testable import Masthead

/// Public pages read from a PostgreSQL streaming replica (`MASTHEAD_DATABASE_READ_URL`): only
/// while it has replayed what the instance serves, and on while the primary is away.
@Suite("Reading public pages from a replica", .serialized)
struct ReadReplicaTests {
    /// A site on the cluster's primary, reading from `readURL` (its replica unless said otherwise),
    /// which it has caught up with unless `caughtUp` is false.
    static func withReplicatedSite(
        readURL: (ReplicatedPostgres) -> String = { $0.replicaURL }, caughtUp: Bool = true, _ body: (TestSite, ReplicatedPostgres) async throws -> Void
    ) async throws {
        let cluster = try await ReplicatedPostgres.start()
        do {
            let site = try await TestSite.start(on: .sqlite) {
                $0.database = .postgres(url: cluster.primaryURL)
                $0.readReplicaURL = readURL(cluster)
                $0.backgroundJobs = false
            }
            do {
                if caughtUp { #expect(try await waitUntil(seconds: 20) { Self.replica(site).isCaughtUp }) }
                try await body(site, cluster)
            } catch {
                await site.stop()
                throw error
            }
            await site.stop()
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    static func replica(_ site: TestSite) -> ReadReplica {
        site.app.storage[ReadReplicaKey.self]!
    }

    @Test("with the primary down, pages not yet cached are still rendered from the replica", .enabled(if: ReplicatedPostgres.available))
    func pagesFromTheReplica() async throws {
        try await Self.withReplicatedSite { site, cluster in
            let articles = try await Article.query(on: site.app.db).filter(\.$status == .published).filter(\.$edition == "en").filter(\.$visibility == .public).range(..<2).all()
            try #require(articles.count == 2)
            #expect(try await site.get("/articles/\(articles[0].slug)").status == .ok)

            try await cluster.stopPrimary()

            let page = try await site.get("/articles/\(articles[1].slug)")
            #expect(page.status == .ok)
            #expect(HTML.text(of: page.body).contains(articles[1].title))
            #expect(try await site.get("/feed.xml").status == .ok)
        }
    }

    @Test("a change the replica has not replayed is read from the primary, never served stale from the replica", .enabled(if: ReplicatedPostgres.available))
    func lagGoesToThePrimary() async throws {
        try await Self.withReplicatedSite { site, cluster in
            let article = try #require(try await Article.query(on: site.app.db).filter(\.$status == .published).filter(\.$edition == "en").filter(\.$visibility == .public).first())
            #expect(try await site.get("/articles/\(article.slug)").status == .ok)
            try await cluster.onReplica("SELECT pg_wal_replay_pause()")
            #expect(await Doctor(settings: site.settings).examine().contains { $0.subject == "read replica" && $0.verdict == .ok })

            try await site.app.db.transaction { db in
                article.title = "Replica lag does not reach readers"
                try await article.save(on: db)
                try await ContentGeneration.bump(on: db, purging: .everything)
            }
            #expect(try await waitUntil(seconds: 10) { !Self.replica(site).isCaughtUp })
            #expect(await Doctor(settings: site.settings).examine().contains { $0.subject == "read replica" && $0.verdict == .warning && $0.detail.contains("1 change behind") })
            #expect(HTML.text(of: try await site.get("/articles/\(article.slug)").body).contains("Replica lag does not reach readers"))

            try await cluster.onReplica("SELECT pg_wal_replay_resume()")
            #expect(try await waitUntil(seconds: 20) { Self.replica(site).isCaughtUp })
        }
    }

    @Test("a read URL naming a database that is not a standby of the site's own is never read", .enabled(if: ReplicatedPostgres.available && TestDatabase.available.contains(.postgres)))
    func foreignDatabaseIsNeverRead() async throws {
        // The suite's shared database: a primary of its own, with some other site's rows.
        try await Self.withReplicatedSite(readURL: { _ in TestDatabase.postgresURL! }, caughtUp: false) { site, _ in
            try await Task.sleep(for: .seconds(1))
            #expect(!Self.replica(site).isCaughtUp)
            #expect(try await site.get("/").status == .ok)
            #expect(await Doctor(settings: site.settings).examine().contains { $0.subject == "read replica" && $0.verdict == .problem })
        }
    }
}
