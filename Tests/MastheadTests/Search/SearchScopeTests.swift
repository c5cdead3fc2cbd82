import Fluent
import Foundation
import SQLKit
import Testing
@testable import Masthead

/// Both databases narrow a search by facet words filed with each row: one naming the audience,
/// edition and kind together, and on PostgreSQL the month and year besides. Rows filed before
/// those words existed (an upgraded site, or an older instance mid-deploy) lack them: searches
/// must still find those rows, and the background job files them again.
@Suite("Search facet words", .serialized)
struct SearchScopeTests {
    /// Publishes an article with a word of its own, then files it again as an instance before
    /// migration 035 did: its words and the older facets only.
    static func filedTheOlderWay(_ site: TestSite, word: String, scoped: Bool) async throws -> String {
        let staff = try await Newsroom.hire(site, .editor)
        let author = try #require(try await Author.query(on: site.app.db).first())
        var draft = ArticleDraft.empty(edition: "en")
        draft.title = "A note on \(word)"
        draft.body = "The \(word) of the marshes.\n\nA second paragraph."
        draft.authorIDs = [try author.requireID()]
        let article = try await ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en"], now: Date())
            .create(draft, action: .publish, by: staff)
        let id = try article.requireID()
        let key = try #require(try await (site.app.db as! any SQLDatabase).raw("SELECT id FROM search_documents WHERE article_id = \(bind: id)").first()?
            .decode(column: "id", as: Int64.self))
        // In one transaction, so that the site's own job never sees the rows half written.
        try await site.app.db.transaction { db in
            let sql = db as! any SQLDatabase
            try await SearchIndexes.forDatabase(db).remove(articleIDs: [id], on: sql)
            let text = "a note on \(word) the \(word) of the marshes", heads = "a note on \(word)"
            if sql.dialect.name == "postgresql" {
                try await sql.raw("""
                    INSERT INTO search_documents (id, article_id, part, visibility, edition, kind, published_at, scoped, words, heads)
                    VALUES (\(bind: key), \(bind: id), 'full', 'public', 'en', \(bind: article.kind.rawValue), \(bind: article.publishedAt!.timeIntervalSince1970),
                      \(literal: scoped ? 1 : 0), to_tsvector('simple', \(bind: text)), to_tsvector('simple', \(bind: heads)))
                    """).run()
                return
            }
            let facets = "edition\(article.edition) kind\(article.kind.rawValue) fullpublic article\(id.uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            try await sql.raw("""
                INSERT INTO search_documents (id, article_id, part, visibility, edition, kind, published_at, scoped)
                VALUES (\(bind: key), \(bind: id), 'full', 'public', 'en', \(bind: article.kind.rawValue), \(bind: article.publishedAt!.timeIntervalSince1970), \(bind: scoped ? 1 : 0))
                """).run()
            try await sql.raw("INSERT INTO search_fts (rowid, words, facets) VALUES (\(bind: key), \(bind: text), \(bind: facets))").run()
            try await sql.raw("INSERT INTO search_heads (rowid, heads, facets) VALUES (\(bind: key), \(bind: heads), \(bind: facets))").run()
        }
        return "/articles/\(article.slug)"
    }

    static func unscopedRows(_ site: TestSite) async throws -> Int {
        try await (site.app.db as! any SQLDatabase).raw("SELECT count(*) AS total FROM search_documents WHERE scoped = 0").first()?.decode(column: "total", as: Int.self) ?? -1
    }

    @Test("an article filed before facet words existed is found, and the search-rebuild job files it again with them", arguments: TestDatabase.available)
    func olderRowsAreFoundAndFiledAgain(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let path = try await Self.filedTheOlderWay(site, word: "quokkas", scoped: false)
            #expect(try await SearchTests.search(site, "/search", "quokkas ").paths == [path])
            #expect(try await SearchTests.search(site, "/search", "quokkas ", "&kind=news").paths == [path])

            // The site's own job may be filing it at this very moment (on PostgreSQL the job then
            // finds the other holding the lock and leaves it): either way, it is soon filed.
            try await SearchRebuilds(database: site.app.backgroundDatabase).runDue(logger: site.app.logger)
            #expect(try await waitUntil(seconds: 30) { try await Self.unscopedRows(site) == 0 })
            #expect(try await SearchTests.search(site, "/search", "quokkas ").paths == [path])
            #expect(try await SearchTests.search(site, "/search", "quokkas ", "&kind=news").paths == [path])
            #expect(try await SearchTests.search(site, "/search", "quokkas ", "&kind=memo").paths.isEmpty)
        }
    }

    @Test("upgrading a SQLite site that has an index queues a rebuild, after which every row has its scope words")
    func upgradeQueuesARebuild() async throws {
        try await withSite(on: .sqlite) { site in
            // On one connection: another of the pool, its schema read before the column went,
            // would find it still there.
            try await site.app.db.transaction { db in
                try await ScopeSearchRows().revert(on: db)
                try await ScopeSearchRows().prepare(on: db)
            }
            #expect(try await Self.unscopedRows(site) > 0)
            let queued = try #require(try await SearchRebuilds(database: site.app.db).open())
            #expect(queued.requestedBy == "the upgrade that added scope words")
            #expect(try await waitUntil(seconds: 60) {
                guard try await SearchRebuild.find(queued.id, on: site.app.db)?.status == .finished else { return false }
                return try await Self.unscopedRows(site) == 0
            })
            #expect(try await SearchTests.search(site, "/search", "water").paths.isEmpty == false)
        }
    }

    @Test("a row that says it has its facet words is narrowed by them alone", arguments: TestDatabase.available)
    func scopeWordsAreUsedOnceEveryRowHasThem(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            // A row that says it has scope words and has none is the one a search now passes over.
            _ = try await Self.filedTheOlderWay(site, word: "quokkas", scoped: true)
            #expect(try await Self.unscopedRows(site) == 0)
            #expect(try await SearchTests.search(site, "/search", "quokkas ").paths.isEmpty)
        }
    }

    @Test("upgrading a PostgreSQL site leaves every row to be filed again, found all the while, until the job has filed them all", .enabled(if: TestDatabase.available.contains(.postgres)))
    func postgresUpgradeFilesRowsAgain() async throws {
        try await withSite(on: .postgres) { site in
            let before = try await SearchTests.search(site, "/search", "water").paths
            #expect(!before.isEmpty)
            try await FacetPostgresSearchRows().revert(on: site.app.db)
            try await FacetPostgresSearchRows().prepare(on: site.app.db)
            #expect(try await Self.unscopedRows(site) > 0)
            #expect(try await SearchRebuilds(database: site.app.db).open() == nil)
            #expect(try await SearchTests.search(site, "/search", "water").paths == before)
            #expect(try await waitUntil(seconds: 60) { try await Self.unscopedRows(site) == 0 })
            #expect(try await SearchTests.search(site, "/search", "water").paths == before)
        }
    }

    @Test("upgrading a PostgreSQL site queues a rebuild after which a row's words are kept in the row", .enabled(if: TestDatabase.available.contains(.postgres)))
    func postgresUpgradeKeepsWordsInline() async throws {
        try await withSite(on: .postgres) { site in
            let sql = site.app.db as! any SQLDatabase
            let before = try await SearchTests.search(site, "/search", "\"water crisis\"").paths
            #expect(!before.isEmpty)
            // Filed again as an older Masthead stored them: words over 2 kB out of line, so the
            // rows are small and share pages.
            try await KeepPostgresSearchWordsInline().revert(on: site.app.db)
            try await sql.raw("UPDATE search_documents SET words = words || ''::tsvector").run()
            let outOfLine = try await Self.largeRowsAndTheirPages(sql)
            #expect(outOfLine.rows > 1 && outOfLine.pages < outOfLine.rows)

            try await KeepPostgresSearchWordsInline().prepare(on: site.app.db)
            let queued = try #require(try await SearchRebuilds(database: site.app.db).open())
            #expect(queued.requestedBy == "the upgrade that keeps search words in line")
            #expect(try await waitUntil(seconds: 60) { try await SearchRebuild.find(queued.id, on: site.app.db)?.status == .finished })
            let inTheRow = try await Self.largeRowsAndTheirPages(sql)
            #expect(inTheRow.rows == outOfLine.rows && inTheRow.pages == inTheRow.rows)
            #expect(try await SearchTests.search(site, "/search", "\"water crisis\"").paths == before)
        }
    }

    /// The rows whose words take 4 to 7 kB, and how many table pages hold them: with the words
    /// in the row no two of them fit in one 8 kB page; out of line they are small and share.
    /// (Read from the table itself: the TOAST relation's schema is closed to ordinary roles.)
    static func largeRowsAndTheirPages(_ sql: any SQLDatabase) async throws -> (rows: Int, pages: Int) {
        let row = try #require(try await sql.raw("""
            SELECT count(*) AS total, count(DISTINCT (ctid::text::point)[0]) AS pages FROM search_documents
            WHERE pg_column_size(words) BETWEEN 4100 AND 7000
            """).first())
        return (try row.decode(column: "total", as: Int.self), try row.decode(column: "pages", as: Int.self))
    }

    static let filters: [SearchFilters] = [
        SearchFilters(), SearchFilters(edition: "en"), SearchFilters(edition: "ar", kind: .analysis), SearchFilters(kind: .memo),
        SearchFilters(visibility: .members), SearchFilters(edition: "en", visibility: .paid), SearchFilters(visibility: .public),
    ]
    static let audiences: [SearchAudience] = [.reader(.anonymous), .reader(.freeMember), .reader(.paidMember), .staff]

    @Test("for every audience and filter, the scope word matches exactly the rows the older words match on SQLite")
    func scopeWordsFollowAccessOnSQLite() async throws {
        try await withSite(on: .sqlite, configure: SearchTests.allEditions) { site in
            let sql = site.app.db as! any SQLDatabase
            func rows(_ facets: String) async throws -> Set<Int64> {
                Set(try await sql.raw("SELECT rowid AS id FROM search_fts WHERE search_fts MATCH \(bind: "facets : (" + facets + ")")").all()
                    .map { try $0.decode(column: "id", as: Int64.self) })
            }
            for audience in Self.audiences {
                for filter in Self.filters {
                    let scope = SearchScope(filters: filter, audience: audience, now: Date())
                    let older = try await rows(SQLiteSearchIndex.facets(scope, scoped: false))
                    #expect(try await rows(SQLiteSearchIndex.facets(scope, scoped: true)) == older, "\(audience), \(filter)")
                    if filter == SearchFilters() { #expect(!older.isEmpty) }
                }
            }
        }
    }

    @Test("for every audience and filter, the facet words match exactly the rows the columns say on PostgreSQL", .enabled(if: TestDatabase.available.contains(.postgres)))
    func facetWordsFollowAccessOnPostgres() async throws {
        try await withSite(on: .postgres, configure: SearchTests.allEditions) { site in
            let sql = site.app.db as! any SQLDatabase
            func rows(_ condition: SQLQueryString) async throws -> Set<Int64> {
                Set(try await sql.raw("SELECT d.id FROM search_documents d WHERE " + condition).all().map { try $0.decode(column: "id", as: Int64.self) })
            }
            for audience in Self.audiences {
                for filter in Self.filters {
                    let scope = SearchScope(filters: filter, audience: audience, now: Date())
                    let byColumns = try await rows(PostgresSearchIndex.conditions(scope))
                    let byFacets = try await rows("d.words @@ \(bind: PostgresSearchIndex.facetQuery(SearchFacets.required(scope, scoped: true)))::tsquery")
                    #expect(byFacets == byColumns, "\(audience), \(filter)")
                    if filter == SearchFilters() { #expect(!byColumns.isEmpty) }
                }
            }
        }
    }

    @Test("the months and years named for a window hold every row published in it on PostgreSQL", .enabled(if: TestDatabase.available.contains(.postgres)))
    func periodsCoverTheirWindow() async throws {
        try await withSite(on: .postgres, configure: SearchTests.allEditions) { site in
            let sql = site.app.db as! any SQLDatabase
            let newest = try #require(try await sql.raw("SELECT max(published_at) AS newest FROM search_documents").first()?.decode(column: "newest", as: Double.self))
            let end = Date(timeIntervalSince1970: newest)
            for days: Double in [1, 30, 120, 365, 1095] {
                let start = end.addingTimeInterval(-days * 86_400)
                let periods = try #require(SearchFacets.periods(from: start, through: end))
                let published = try await sql.raw("""
                    SELECT count(*) AS total FROM search_documents WHERE published_at >= \(bind: start.timeIntervalSince1970) AND published_at <= \(bind: newest)
                    """).first()
                let named = try await sql.raw("""
                    SELECT count(*) AS total FROM search_documents WHERE published_at >= \(bind: start.timeIntervalSince1970) AND published_at <= \(bind: newest)
                    AND words @@ \(bind: PostgresSearchIndex.facetQuery([periods]))::tsquery
                    """).first()
                #expect(try SearchSQL.total(named) == SearchSQL.total(published), "\(days) days")
            }
        }
    }

    @Test("PostgreSQL looks back a month, then each window ends where the last began and reaches as far as the matches found so far say it takes, up to the scope's start")
    func windowsGrowWithWhatTheyFind() async throws {
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let days = { (key: Int64) in Int((now.timeIntervalSince(SearchKey.publishedAt(key)) / 86_400).rounded()) }
        var looked: [(from: Int, to: Int, wanted: Int)] = []
        let foundInEach = [5, 0, 10, 5]
        let found = try await PostgresSearchIndex.lookBack(over: SearchScope(filters: SearchFilters(), audience: .staff, now: now), until: 20) { window, wanted in
            looked.append((days(window.lowerBound), days(window.upperBound), wanted))
            return foundInEach[looked.count - 1]
        }
        #expect(found == 20)
        #expect(looked.map(\.from) == [30, 180, 1080, 3240])
        #expect(looked.map(\.to) == [0, 30, 180, 1080])
        #expect(looked.map(\.wanted) == [20, 15, 15, 5])

        looked = []
        let recent = SearchScope(filters: SearchFilters(from: now.addingTimeInterval(-100 * 86_400)), audience: .staff, now: now)
        #expect(try await PostgresSearchIndex.lookBack(over: recent, until: 20) { window, wanted in
            looked.append((days(window.lowerBound), days(window.upperBound), wanted))
            return 0
        } == 0)
        #expect(looked.map(\.from) == [30, 100])

        var starts: [Int64] = []
        let everything = SearchScope(filters: SearchFilters(), audience: .staff, now: now)
        try await PostgresSearchIndex.lookBack(over: everything, until: 20) { window, _ in
            starts.append(window.lowerBound)
            return 0
        }
        #expect(starts.dropLast().map(days) == [30, 360], "a decade or more back is looked at in one")
        #expect(starts.last == everything.keys.lowerBound)
    }

    @Test("a window's periods are its months, with the years it holds whole named as years, and none for a very long span")
    func periodsOfAWindow() throws {
        let format = ISO8601DateFormatter()
        let start = try #require(format.date(from: "2024-11-15T08:00:00Z")), end = try #require(format.date(from: "2026-02-03T23:59:59Z"))
        #expect(SearchFacets.periods(from: start, through: end) == ["month202411", "month202412", "year2025", "month202601", "month202602"])
        #expect(SearchFacets.periods(from: end, through: end) == ["month202602"])
        #expect(SearchFacets.periods(of: end) == ["month202602", "year2026"])
        #expect(SearchFacets.periods(from: .distantPast, through: end) == nil)
        #expect(SearchFacets.periods(from: end, through: start) == nil)
    }
}
