import Fluent
import Foundation
import SQLKit
import Testing
@testable import Masthead

/// SQLite narrows a search by one word naming the audience, edition and kind together. Rows
/// filed before those words existed (an upgraded site, or an older instance mid-deploy) lack
/// them: searches must still find those rows, and the background job files them again.
@Suite("Search scope words on SQLite", .serialized)
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
            try await SQLiteSearchIndex().remove(articleIDs: [id], on: sql)
            let facets = "edition\(article.edition) kind\(article.kind.rawValue) fullpublic article\(id.uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            try await sql.raw("""
                INSERT INTO search_documents (id, article_id, part, visibility, edition, kind, published_at, scoped)
                VALUES (\(bind: key), \(bind: id), 'full', 'public', 'en', \(bind: article.kind.rawValue), \(bind: article.publishedAt!.timeIntervalSince1970), \(bind: scoped ? 1 : 0))
                """).run()
            try await sql.raw("INSERT INTO search_fts (rowid, words, facets) VALUES (\(bind: key), \(bind: "a note on \(word) the \(word) of the marshes"), \(bind: facets))").run()
            try await sql.raw("INSERT INTO search_heads (rowid, heads, facets) VALUES (\(bind: key), \(bind: "a note on \(word)"), \(bind: facets))").run()
        }
        return "/articles/\(article.slug)"
    }

    static func unscopedRows(_ site: TestSite) async throws -> Int {
        try await (site.app.db as! any SQLDatabase).raw("SELECT count(*) AS total FROM search_documents WHERE scoped = 0").first()?.decode(column: "total", as: Int.self) ?? -1
    }

    @Test("an article filed before scope words existed is found, and the search-rebuild job files it again with them")
    func olderRowsAreFoundAndFiledAgain() async throws {
        try await withSite(on: .sqlite) { site in
            let path = try await Self.filedTheOlderWay(site, word: "quokkas", scoped: false)
            #expect(try await SearchTests.search(site, "/search", "quokkas ").paths == [path])
            #expect(try await SearchTests.search(site, "/search", "quokkas ", "&kind=news").paths == [path])

            // The site's own job may have got there first: either way, nothing is left unscoped.
            try await SearchRebuilds(database: site.app.backgroundDatabase).runDue(logger: site.app.logger)
            #expect(try await Self.unscopedRows(site) == 0)
            #expect(try await SearchTests.search(site, "/search", "quokkas ").paths == [path])
            #expect(try await SearchTests.search(site, "/search", "quokkas ", "&kind=news").paths == [path])
            #expect(try await SearchTests.search(site, "/search", "quokkas ", "&kind=memo").paths.isEmpty)
        }
    }

    @Test("upgrading a site that has an index queues a rebuild, after which every row has its scope words")
    func upgradeQueuesARebuild() async throws {
        try await withSite(on: .sqlite) { site in
            try await ScopeSearchRows().revert(on: site.app.db)
            try await ScopeSearchRows().prepare(on: site.app.db)
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

    @Test("once every row has its scope words, searches narrow by them alone")
    func scopeWordsAreUsedOnceEveryRowHasThem() async throws {
        try await withSite(on: .sqlite) { site in
            // A row that says it has scope words and has none is the one a search now passes over.
            _ = try await Self.filedTheOlderWay(site, word: "quokkas", scoped: true)
            #expect(try await Self.unscopedRows(site) == 0)
            #expect(try await SearchTests.search(site, "/search", "quokkas ").paths.isEmpty)
        }
    }

    @Test("for every audience and filter, the scope words match exactly the rows the older words match", arguments: [TestDatabase.sqlite])
    func scopeWordsFollowAccess(database: TestDatabase) async throws {
        try await withSite(on: database, configure: SearchTests.allEditions) { site in
            let sql = site.app.db as! any SQLDatabase
            func rows(_ facets: String) async throws -> Set<Int64> {
                Set(try await sql.raw("SELECT rowid AS id FROM search_fts WHERE search_fts MATCH \(bind: "facets : (" + facets + ")")").all()
                    .map { try $0.decode(column: "id", as: Int64.self) })
            }
            let filters: [SearchFilters] = [
                SearchFilters(), SearchFilters(edition: "en"), SearchFilters(edition: "ar", kind: .analysis), SearchFilters(kind: .memo),
                SearchFilters(visibility: .members), SearchFilters(edition: "en", visibility: .paid), SearchFilters(visibility: .public),
            ]
            for audience in [SearchAudience.reader(.anonymous), .reader(.freeMember), .reader(.paidMember), .staff] {
                for filter in filters {
                    let scope = SearchScope(filters: filter, audience: audience, now: Date())
                    let older = try await rows(SQLiteSearchIndex.facets(scope))
                    #expect(try await rows(SQLiteSearchIndex.scopeFacets(scope)) == older, "\(audience), \(filter)")
                    if filter == SearchFilters() { #expect(!older.isEmpty) }
                }
            }
        }
    }
}
