import Fluent
import Foundation
import SQLKit

/// SQLite's search rows gain one word per audience, edition and kind together (see
/// `SQLiteSearchIndex.scopeFacets`), which narrows a search through one short list of rows
/// instead of four long ones. Rows filed before this (or by an older instance during a rolling
/// deploy) have no such words: `scoped` says which do, searches keep to the older words while
/// any row lacks them, and the search-rebuild job files those rows again a batch at a time.
/// A site that has an index gets a rebuild queued besides: filed batch by batch with merging
/// off and merged once at the end, the index comes out as fast as a fresh one, which rows
/// replaced one batch at a time do not (p95 32 ms against 10 at 100,000 articles).
/// PostgreSQL filters on columns and needs nothing.
struct ScopeSearchRows: AsyncMigration {
    var name: String { "035_ScopeSearchRows" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        try await sql.raw("ALTER TABLE search_documents ADD COLUMN scoped INTEGER NOT NULL DEFAULT 0").run()
        try await sql.raw("CREATE INDEX search_documents_unscoped ON search_documents (article_id) WHERE scoped = 0").run()
        // Written as SQL, not through the model, which may gain columns after this migration.
        try await sql.raw("""
            INSERT INTO search_rebuilds (id, status, requested_by, requested_at, open_slot, done, total, takeovers)
            SELECT \(bind: UUID()), 'queued', 'the upgrade that added scope words', \(bind: Date()), 1, 0, 0, 0
            WHERE EXISTS (SELECT 1 FROM search_documents) AND NOT EXISTS (SELECT 1 FROM search_rebuilds WHERE open_slot = 1)
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        try await sql.raw("DROP INDEX IF EXISTS search_documents_unscoped").run()
        try await sql.raw("ALTER TABLE search_documents DROP COLUMN scoped").run()
    }
}
