import Fluent
import Foundation
import SQLKit
import Synchronization
import Testing
@testable import Masthead

/// How the index orders and bounds what it finds, on both databases: title and names first,
/// the newest first within each, old title matches never crowded out by newer mentions.
@Suite("Search ranking", .serialized)
struct SearchRankingTests {
    static let now = Date()

    /// Publishes an article straight into the database and files it, as publishing would.
    @discardableResult
    static func publish(
        _ title: String, body: String, daysAgo: Double, visibility: Visibility = .public, id: UUID = UUID(),
        at date: Date? = nil, on database: any Database
    ) async throws -> UUID {
        let article = Article(
            slug: "ranking-\(id.uuidString.lowercased())", edition: "en", kind: .news, status: .published, visibility: visibility,
            title: title, dek: "", publishedAt: date ?? now.addingTimeInterval(-daysAgo * 86_400)
        )
        article.id = id
        article.setBody(markdown: body, previewParagraphs: 1)
        try await article.create(on: database)
        try await article.saveText(on: database)
        try await SearchIndexing(database: database).refresh(id)
        return id
    }

    static func found(_ words: String, candidates: Int = SearchRanking.candidates, audience: SearchAudience = .reader(.anonymous), on database: any Database) async throws -> SearchMatches {
        try await SearchRanking.search(
            try SearchQuery(words), filters: SearchFilters(edition: "en"), audience: audience, now: now,
            offset: 0, limit: 20, candidates: candidates, index: SearchIndexes.forDatabase(database), on: database as! any SQLDatabase
        )
    }

    @Test("a match in the title ranks above newer matches in the text, and within each the newest comes first", arguments: TestDatabase.available)
    func titlesThenNewest(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let db = site.app.db
            let oldTitle = try await Self.publish("Okapis cross the river", body: "Nothing more.", daysAgo: 900, on: db)
            let newTitle = try await Self.publish("Okapis return", body: "Nothing more.", daysAgo: 40, on: db)
            let oldText = try await Self.publish("A quiet week", body: "Some okapis were seen.", daysAgo: 300, on: db)
            let newText = try await Self.publish("Another quiet week", body: "More okapis were seen.", daysAgo: 1, on: db)

            let matches = try await Self.found("okapis", on: db)
            #expect(matches.hits.map(\.articleID) == [newTitle, oldTitle, newText, oldText])
            #expect(matches.total == 4)
            #expect(!matches.more)
        }
    }

    @Test("when more articles match than are ranked, old title matches still rank first, the newest follow, and the count says there are more", arguments: TestDatabase.available)
    func boundedCandidates(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let db = site.app.db
            let titled = try await Self.publish("Tapirs in the archive", body: "Nothing more.", daysAgo: 2000, on: db)
            var mentions: [UUID] = []
            for day in [3.0, 50, 400, 700, 1200] {
                mentions.append(try await Self.publish("Notes", body: "Tapirs again.", daysAgo: day, on: db))
            }

            let matches = try await Self.found("tapirs", candidates: 3, on: db)
            #expect(matches.hits.map(\.articleID) == [titled] + mentions.prefix(2))
            #expect(matches.total == 3)
            #expect(matches.more)
            #expect(try await Self.found("tapirs", candidates: 10, on: db).hits.count == 6)
        }
    }

    @Test("matches spread over decades are each found and counted once, newest first, however the looks back fall", arguments: TestDatabase.available)
    func acrossTheYears(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let db = site.app.db
            var mentions: [UUID] = []
            for day in [0.5, 10, 29, 31, 95, 200, 364, 366, 1000, 2900, 5000, 9000] {
                mentions.append(try await Self.publish("Notes", body: "Pangolins again.", daysAgo: day, on: db))
            }

            let all = try await Self.found("pangolins", candidates: 100, on: db)
            #expect(all.hits.map(\.articleID) == mentions)
            #expect(all.total == mentions.count)
            let newest = try await Self.found("pangolins", candidates: 7, on: db)
            #expect(newest.hits.map(\.articleID) == Array(mentions.prefix(7)))
            #expect(newest.more)
        }
    }

    @Test("articles published in the same second whose keys would collide, even after one step aside, are all filed and found", arguments: TestDatabase.available)
    func collidingKeys(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let db = site.app.db
            let second = Date(timeIntervalSince1970: (Self.now.timeIntervalSince1970 - 86_400).rounded(.down))
            let first = try #require(UUID(uuidString: "00000000-0000-4000-8000-000000012345"))
            let twin = try #require(UUID(uuidString: "11111111-1111-4111-9111-111111012345"))
            #expect(SearchKey.of(publishedAt: second, articleID: first, part: .full) == SearchKey.of(publishedAt: second, articleID: twin, part: .full))
            // Holds the key the twin's would move to.
            let neighbour = try #require(UUID(uuidString: "22222222-2222-4222-a222-222222012346"))
            try await Self.publish("Pangolins at dawn", body: "One.", daysAgo: 0, visibility: .paid, id: first, at: second, on: db)
            try await Self.publish("Pangolins at noon", body: "Two.", daysAgo: 0, visibility: .paid, id: neighbour, at: second, on: db)
            try await Self.publish("Pangolins at dusk", body: "Three.", daysAgo: 0, visibility: .paid, id: twin, at: second, on: db)

            let all: Set<UUID> = [first, neighbour, twin]
            #expect(Set(try await Self.found("pangolins", on: db).hits.map(\.articleID)) == all)
            #expect(Set(try await Self.found("pangolins", audience: .staff, on: db).hits.map(\.articleID)) == all)
            try await SearchIndexing(database: db).refresh(first)
            #expect(Set(try await Self.found("pangolins", audience: .staff, on: db).hits.map(\.articleID)) == all)
        }
    }

    @Test("two filings of one article at once take turns on PostgreSQL: both succeed and one row per part remains", .enabled(if: TestDatabase.available.contains(.postgres)))
    func concurrentFilings() async throws {
        try await withSite(on: .postgres, withDemo: false) { site in
            let db = site.app.db
            let id = try await Self.publish("Dugongs off Bahrain", body: "Seen at dawn.", daysAgo: 1, visibility: .paid, on: db)
            for _ in 0..<10 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 {
                        group.addTask { try await db.transaction { try await SearchIndexing(database: $0).refresh(id) } }
                    }
                    try await group.waitForAll()
                }
            }
            let rows = try await (db as! any SQLDatabase).raw("SELECT count(*) AS total FROM search_documents WHERE article_id = \(bind: id)").first()
            #expect(try SearchSQL.total(rows) == 2)
        }
    }

    @Test("a rebuild files every published article again, batch by batch, and takes out what is no longer published", arguments: TestDatabase.available)
    func rebuild(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let db = site.app.db
            let lost = try await Self.publish("Capybaras", body: "One.", daysAgo: 3, on: db)
            let kept = try await Self.publish("Capybaras again", body: "Two.", daysAgo: 2, on: db)
            let withdrawn = try await Self.publish("Capybaras withdrawn", body: "Three.", daysAgo: 1, on: db)
            try await SearchIndexes.forDatabase(db).remove(articleIDs: [lost], on: db as! any SQLDatabase)
            let article = try #require(try await Article.find(withdrawn, on: db))
            article.status = .draft
            try await article.save(on: db)
            #expect(Set(try await Self.found("capybaras", on: db).hits.map(\.articleID)) == [kept, withdrawn])

            let reports = Mutex<[Int]>([])
            let filed = try await SearchIndexing(database: db).rebuild(batchSize: 1) { progress in reports.withLock { $0.append(progress.done) } }

            #expect(filed == 2)
            #expect(reports.withLock { $0 } == [0, 1, 2])
            #expect(Set(try await Self.found("capybaras", on: db).hits.map(\.articleID)) == [lost, kept])
            let (latest, _) = try await SearchTests.search(site, "/search", "capybaras")
            #expect(latest.count == 2)
        }
    }
}
