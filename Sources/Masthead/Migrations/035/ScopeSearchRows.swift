import Fluent
import SQLKit

/// SQLite's search rows gain one word per audience, edition and kind together (see
/// `SQLiteSearchIndex.scopeFacets`), which narrows a search through one short list of rows
/// instead of four long ones. Rows filed before this (or by an older instance during a rolling
/// deploy) have no such words: `scoped` says which do, searches keep to the older words while
/// any row lacks them, and the search-rebuild job files those rows again a batch at a time.
/// PostgreSQL filters on columns and needs nothing.
struct ScopeSearchRows: AsyncMigration {
    var name: String { "035_ScopeSearchRows" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        try await sql.raw("ALTER TABLE search_documents ADD COLUMN scoped INTEGER NOT NULL DEFAULT 0").run()
        try await sql.raw("CREATE INDEX search_documents_unscoped ON search_documents (article_id) WHERE scoped = 0").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        try await sql.raw("DROP INDEX IF EXISTS search_documents_unscoped").run()
        try await sql.raw("ALTER TABLE search_documents DROP COLUMN scoped").run()
    }
}
