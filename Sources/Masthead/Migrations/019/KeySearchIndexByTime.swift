import Fluent
import SQLKit

/// The search index rebuilt around `SearchKey`: rows keyed by publication time, so that a
/// search finds the newest matches without ranking every one (see `SearchIndex`), and the
/// title and names filed apart from the text. The index is derived data: the tables are made
/// anew, empty, and `SearchIndexing.fillIfEmpty` files every published article again when
/// the server starts.
struct KeySearchIndexByTime: AsyncMigration {
    var name: String { "019_KeySearchIndexByTime" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await dropTables(on: sql)
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE TABLE search_documents (
                    id BIGINT PRIMARY KEY, article_id UUID NOT NULL, part TEXT NOT NULL, visibility TEXT NOT NULL,
                    edition TEXT NOT NULL, kind TEXT NOT NULL, published_at DOUBLE PRECISION NOT NULL,
                    words TSVECTOR NOT NULL, heads TSVECTOR NOT NULL)
                """).run()
            try await sql.raw("CREATE INDEX search_documents_words ON search_documents USING GIN (words)").run()
            try await sql.raw("CREATE INDEX search_documents_heads ON search_documents USING GIN (heads)").run()
        } else {
            try await sql.raw("""
                CREATE TABLE search_documents (
                    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, part TEXT NOT NULL, visibility TEXT NOT NULL,
                    edition TEXT NOT NULL, kind TEXT NOT NULL, published_at REAL NOT NULL)
                """).run()
            // Contentless: the words are only ever matched, never read back; snippets come from
            // what the viewer may read (see `SearchSnippet`). Prefix indexes make typing fast.
            for (table, text) in [("search_fts", "words"), ("search_heads", "heads")] {
                try await sql.raw("""
                    CREATE VIRTUAL TABLE \(unsafeRaw: table) USING fts5(
                        \(unsafeRaw: text), facets, content='', contentless_delete=1,
                        tokenize='unicode61 remove_diacritics 0', prefix='2 3')
                    """).run()
            }
        }
        // One row of each part per article: two fillers racing cannot double an article.
        try await sql.create(index: "search_documents_article").unique().on("search_documents").column("article_id").column("part").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await dropTables(on: sql)
        try await CreateSearchIndex.createTables(on: sql)
    }

    private func dropTables(on sql: any SQLDatabase) async throws {
        if sql.dialect.name != "postgresql" {
            try await sql.raw("DROP TABLE IF EXISTS search_fts").run()
            try await sql.raw("DROP TABLE IF EXISTS search_heads").run()
        }
        try await sql.raw("DROP TABLE IF EXISTS search_documents").run()
    }
}
