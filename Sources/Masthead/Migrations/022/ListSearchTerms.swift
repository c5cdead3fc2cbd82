import Fluent
import SQLKit

/// Every word the SQLite index holds, so that a word still being typed can be widened to the
/// words it begins (`SQLiteSearchIndex`): FTS5 answers a prefix longer than its prefix indexes
/// by merging the match lists of every such word across the whole archive, 10 to 25 ms at
/// 100,000 articles, where the same words asked for by name take 1 to 4 ms. The list starts
/// from the words already filed (read through `fts5vocab`, words column only: the facets are
/// never typed). PostgreSQL widens prefixes in its own index and needs no list.
struct ListSearchTerms: AsyncMigration {
    var name: String { "022_ListSearchTerms" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        try await sql.raw("CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID").run()
        try await sql.raw("CREATE VIRTUAL TABLE temp.search_fts_vocabulary USING fts5vocab(main, search_fts, col)").run()
        try await sql.raw("INSERT OR IGNORE INTO search_terms (term) SELECT term FROM temp.search_fts_vocabulary WHERE col = 'words'").run()
        try await sql.raw("DROP TABLE temp.search_fts_vocabulary").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        try await sql.raw("DROP TABLE IF EXISTS search_terms").run()
    }
}
