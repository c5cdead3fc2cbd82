import Fluent
import SQLKit

/// PostgreSQL's search rows gain their facets and publication month as lexemes of their own
/// (see `PostgresSearchIndex`), so that the GIN match itself narrows a search to what the
/// reader may match, and to a window of months, instead of every row holding a common word
/// being read from the table (p95 up to 629 ms at 100,000 articles). Rows filed before this,
/// or by an older instance during a rolling deploy, lack them: `scoped` says which rows have
/// them, searches match the others by their columns, and the search-rebuild job files them
/// again a batch at a time. SQLite's rows have had theirs since migration 035.
///
/// PostgreSQL also gets SQLite's list of filed words (migration 022), so that a prefix is
/// asked as the words it begins, listed here from what the index holds (about 7 s at 100,000
/// articles).
struct FacetPostgresSearchRows: AsyncMigration {
    var name: String { "036_FacetPostgresSearchRows" }

    /// In one transaction (PostgreSQL's DDL is transactional): a start killed during the word
    /// list, its slowest step, leaves nothing half done for the next start to trip over.
    func prepare(on database: any Database) async throws {
        guard (database as! any SQLDatabase).dialect.name == "postgresql" else { return }
        try await database.writeTransaction { transaction in try await Self.expand(transaction as! any SQLDatabase) }
    }

    private static func expand(_ sql: any SQLDatabase) async throws {
        try await sql.raw("ALTER TABLE search_documents ADD COLUMN scoped SMALLINT NOT NULL DEFAULT 0").run()
        try await sql.raw("CREATE INDEX search_documents_unscoped ON search_documents (article_id) WHERE scoped = 0").run()
        // Without statistics for the new column, the planner would take every row for scoped
        // and walk the partial index, checking each row's words, until autovacuum passes.
        try await sql.raw("ANALYZE search_documents").run()
        // In code point order, for the range a prefix's words lie in.
        try await sql.raw(#"CREATE TABLE search_terms (term TEXT COLLATE "C" PRIMARY KEY)"#).run()
        try await sql.raw("INSERT INTO search_terms (term) SELECT word FROM ts_stat('SELECT words FROM search_documents') WHERE left(word, 1) <> '_'").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("DROP TABLE IF EXISTS search_terms").run()
        try await sql.raw("DROP INDEX IF EXISTS search_documents_unscoped").run()
        try await sql.raw("ALTER TABLE search_documents DROP COLUMN scoped").run()
    }
}
