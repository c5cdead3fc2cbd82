import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
@testable import Masthead

/// A CDN in front of the site hears, from the instances that run background jobs, which pages a
/// change made stale: through its purge API, in its own dialect, until it has said yes.
@Suite("Purging a CDN", .serialized)
struct CDNPurgeTests {
    /// Purges waiting for their first sending (not the repeats a sent purge leaves behind).
    static func queued(_ site: TestSite) async throws -> Int {
        try await (site.app.db as! any SQLDatabase).raw("SELECT count(*) AS n FROM cdn_purges WHERE echo = \(bind: false)")
            .first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Saves a change to a published article through the editor, as an editor would.
    static func edit(_ article: Article, on site: TestSite, _ change: (inout ArticleDraft) -> Void) async throws {
        let loaded = try #require(try await Article.query(on: site.app.db).filter(\.$id == article.requireID())
            .with(\.$authorCredits).with(\.$topicLinks).with(\.$text).first())
        var draft = try ArticleDraft(loaded)
        change(&draft)
        let staff = try await Newsroom.hire(site, .editor, email: "editor-\(UUID().uuidString.prefix(8))@newsroom.example")
        _ = try await ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en", "ar"], now: Date())
            .update(try loaded.requireID(), draft, action: .save, by: staff)
    }

    static func withPurgingSite(
        on database: TestDatabase, style: CDNPurgeHook.Style = .generic, token: String? = "purge-token", repeatAfter: Duration = .seconds(3600),
        _ body: (TestSite, TestPurgeEndpoint) async throws -> Void
    ) async throws {
        let endpoint = try await TestPurgeEndpoint.start()
        do {
            try await withSite(on: database, configure: {
                $0.cdnPurge = CDNPurgeHook(url: URL(string: endpoint.url)!, style: style, token: token)
                $0.cdnPurgeRepeat = repeatAfter
            }) { site in
                // Loading the demo asked for a purge of everything: let it go first (and its
                // repeat, when that comes soon).
                #expect(try await waitUntil { try await queued(site) == 0 })
                if repeatAfter < .seconds(60) {
                    let sql = site.app.db as! any SQLDatabase
                    #expect(try await waitUntil { try await sql.raw("SELECT count(*) AS n FROM cdn_purges").first()?.decode(column: "n", as: Int.self) == 0 })
                }
                endpoint.reset()
                try await body(site, endpoint)
            }
        } catch {
            await endpoint.stop()
            throw error
        }
        await endpoint.stop()
    }

    @Test("an edit of a published article purges its page, its edition's and its kind's, topics' and authors' listings and the sitemaps, until the CDN accepts", arguments: TestDatabase.available)
    func editPurgesWhatItChanged(database: TestDatabase) async throws {
        try await Self.withPurgingSite(on: database) { site, endpoint in
            let first = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let article = try #require(try await Article.query(on: site.app.db).filter(\.$id == first.id!)
                .with(\.$authorCredits).with(\.$topicLinks).with(\.$text).first())
            let topics = try await Topic.query(on: site.app.db).filter(\.$id ~~ article.topicLinks.map { $0.$topic.id }).all().map(\.slug)
            let authors = try await Author.query(on: site.app.db).filter(\.$id ~~ article.authorCredits.map { $0.$author.id }).all().map(\.slug)
            #expect(!topics.isEmpty && !authors.isEmpty)
            endpoint.reset(refusing: 1)
            try await Self.edit(article, on: site) { $0.title = "A corrected headline for the CDN" }

            #expect(try await waitUntil { endpoint.received.contains { $0.status == .ok } })
            let received = endpoint.received
            #expect(received.first?.status == .serviceUnavailable, "the first try was refused")
            let accepted = try #require(received.last)
            #expect(accepted.method == "POST")
            #expect(accepted.headers.first(name: .authorization) == "Bearer purge-token")
            #expect(accepted.headers.first(name: .contentType) == "application/json")
            let names = Set(try accepted.names(in: "keys"))
            let expected = Set(
                ["article-en-\(article.slug)", "latest-en", "latest-all", "kind-en-\(article.kind.rawValue)", "sitemaps"]
                    + topics.map { "topic-en-\($0)" } + authors.map { "author-en-\($0)" }
            )
            #expect(names == expected)
            // Deleted once the answer is in, which the endpoint has recorded a moment before.
            #expect(try await waitUntil { try await Self.queued(site) == 0 }, "a purge the CDN accepted is not kept")
        }
    }

    @Test("an article moved to another slug purges the old address as well as the new", arguments: [TestDatabase.sqlite])
    func renamedArticlePurgesBothAddresses(database: TestDatabase) async throws {
        try await Self.withPurgingSite(on: database) { site, endpoint in
            let first = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            try await Self.edit(first, on: site) { $0.slug = "a-new-address-for-the-story" }

            #expect(try await waitUntil { !endpoint.received.isEmpty })
            let names = try endpoint.received.flatMap { try $0.names(in: "keys") }
            #expect(names.contains("article-en-\(first.slug)") && names.contains("article-en-a-new-address-for-the-story"))
        }
    }

    @Test("each CDN is asked in its own dialect", arguments: [CDNPurgeHook.Style.fastly, .cloudflare, .varnish])
    func dialects(style: CDNPurgeHook.Style) async throws {
        try await Self.withPurgingSite(on: .sqlite, style: style) { site, endpoint in
            try await CDNPurges.enqueue(SurrogateKeys(names: ["article-en-a-story", "latest-en"]), on: site.app.db)
            #expect(try await waitUntil { !endpoint.received.isEmpty })
            let request = try #require(endpoint.received.first)
            switch style {
            case .fastly:
                #expect(request.method == "POST" && request.headers.first(name: "Fastly-Key") == "purge-token")
                #expect(try request.names(in: "surrogate_keys") == ["article-en-a-story", "latest-en"])
            case .cloudflare:
                #expect(request.method == "POST" && request.headers.first(name: .authorization) == "Bearer purge-token")
                #expect(try request.names(in: "tags") == ["article-en-a-story", "latest-en"])
            case .varnish:
                #expect(request.method == "PURGE" && request.headers.first(name: "xkey-purge") == "article-en-a-story latest-en")
            case .generic:
                Issue.record("not a dialect of its own")
            }
        }
    }

    @Test("a burst of changes makes one request, and a purge of everything stands for the rest")
    func burstsAreMerged() async throws {
        try await Self.withPurgingSite(on: .sqlite) { site, endpoint in
            // Queued in one transaction, so the sender finds them together.
            try await site.app.db.transaction { db in
                try await CDNPurges.enqueue(SurrogateKeys(names: ["article-en-one", "latest-en"]), on: db)
                try await CDNPurges.enqueue(SurrogateKeys(names: ["article-en-two", "latest-en"]), on: db)
            }
            #expect(try await waitUntil { try await Self.queued(site) == 0 })
            #expect(try endpoint.received.map { try $0.names(in: "keys") } == [["article-en-one", "latest-en", "article-en-two"]])

            endpoint.reset()
            try await site.app.db.transaction { db in
                try await CDNPurges.enqueue(SurrogateKeys(names: ["article-en-one"]), on: db)
                try await CDNPurges.enqueue(.everything, on: db)
            }
            #expect(try await waitUntil { try await Self.queued(site) == 0 })
            #expect(try endpoint.received.map { try $0.names(in: "keys") } == [["site"]])
        }
    }

    @Test("a purge is sent again a little later, for an instance slow to hear of the change, and only once again")
    func purgesAreRepeated() async throws {
        try await Self.withPurgingSite(on: .sqlite, repeatAfter: .seconds(1)) { site, endpoint in
            try await CDNPurges.enqueue(SurrogateKeys(names: ["article-en-one", "latest-en"]), on: site.app.db)
            #expect(try await waitUntil { endpoint.received.count == 2 })
            #expect(try endpoint.received.map { try $0.names(in: "keys") } == [["article-en-one", "latest-en"], ["article-en-one", "latest-en"]])
            try await Task.sleep(for: .seconds(3))
            #expect(endpoint.received.count == 2)
        }
    }

    @Test("a purge older than any copy a CDN may still hold is dropped, not sent")
    func stalePurgesAreDropped() async throws {
        try await Self.withPurgingSite(on: .sqlite) { site, endpoint in
            try await CDNPurges.enqueue(SurrogateKeys(names: ["article-en-long-gone"]), on: site.app.db, now: Date().addingTimeInterval(-3_600))
            #expect(try await waitUntil { try await Self.queued(site) == 0 })
            #expect(endpoint.received.isEmpty)
        }
    }
}
