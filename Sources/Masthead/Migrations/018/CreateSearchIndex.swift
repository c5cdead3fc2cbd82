import Fluent
import SQLKit

/// The full-text index of published articles, in each database's own kind (see `SearchIndex`);
/// the other names a topic goes by, which the index files with its articles; and authors'
/// biographies in each edition's language, for the Persian and Turkish editions.
struct CreateSearchIndex: AsyncMigration {
    var name: String { "018_CreateSearchIndex" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Topic.schema).field("aliases", .string, .required, .sql(.default(""))).update()
        try await database.schema(Author.schema).field("bios", .string, .required, .sql(.default("{}"))).update()
        try await Self.createTables(on: database as! any SQLDatabase)
    }

    /// The index as this migration made it; `KeySearchIndexByTime` replaced it.
    static func createTables(on sql: any SQLDatabase) async throws {
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE TABLE search_documents (
                    id BIGSERIAL PRIMARY KEY, article_id UUID NOT NULL, part TEXT NOT NULL, visibility TEXT NOT NULL,
                    edition TEXT NOT NULL, kind TEXT NOT NULL, published_at DOUBLE PRECISION NOT NULL, words TSVECTOR NOT NULL)
                """).run()
            try await sql.raw("CREATE INDEX search_documents_words ON search_documents USING GIN (words)").run()
        } else {
            try await sql.raw("""
                CREATE TABLE search_documents (
                    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, part TEXT NOT NULL, visibility TEXT NOT NULL,
                    edition TEXT NOT NULL, kind TEXT NOT NULL, published_at REAL NOT NULL)
                """).run()
            // Contentless: the words are only ever matched, never read back; snippets come from
            // what the viewer may read (see `SearchSnippet`). Prefix indexes make typing fast.
            try await sql.raw("""
                CREATE VIRTUAL TABLE search_fts USING fts5(
                    title, names, body, content='', contentless_delete=1,
                    tokenize='unicode61 remove_diacritics 0', prefix='2 3')
                """).run()
        }
        // One row of each part per article: two fillers racing cannot double an article.
        try await sql.create(index: "search_documents_article").unique().on("search_documents").column("article_id").column("part").run()
        try await sql.create(index: "search_documents_recent").on("search_documents").column("edition").column("published_at").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name != "postgresql" { try await sql.raw("DROP TABLE search_fts").run() }
        try await sql.raw("DROP TABLE search_documents").run()
        try await database.schema(Topic.schema).deleteField("aliases").update()
        try await database.schema(Author.schema).deleteField("bios").update()
    }
}
