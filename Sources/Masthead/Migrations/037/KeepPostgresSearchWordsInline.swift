import Fluent
import Foundation
import SQLKit

/// PostgreSQL keeps each search row's `tsvector`s in the row itself, compressed where that
/// helps, rather than in the table's TOAST relation, where any value that leaves a row over
/// 2 kB goes by default. A GIN index knows which rows hold a phrase's words, not where, so a
/// phrase is checked row by row, and a value read out of line costs a lookup in the TOAST
/// index and then its chunks: counting 201 matches of "water emergency" at 100,000 articles
/// read 6,149 pages with the words out of line and 1,192 with them in the row. Only a row too
/// large for a page (a long report) still has its words moved out, and its heads stay in.
///
/// The storage applies to rows written from now on, so a site that has an index gets a
/// rebuild queued, which files every row again while searches go on over the old ones.
struct KeepPostgresSearchWordsInline: AsyncMigration {
    var name: String { "037_KeepPostgresSearchWordsInline" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("ALTER TABLE search_documents ALTER COLUMN words SET STORAGE MAIN, ALTER COLUMN heads SET STORAGE MAIN").run()
        // Written as SQL, not through the model, which may gain columns after this migration.
        // A rebuild already open (asked for by an admin on another instance) files every row too.
        try await sql.raw("""
            INSERT INTO search_rebuilds (id, status, requested_by, requested_at, open_slot, done, total, takeovers)
            SELECT \(bind: UUID()), 'queued', 'the upgrade that keeps search words in line', \(bind: Date()), 1, 0, 0, 0
            WHERE EXISTS (SELECT 1 FROM search_documents)
            ON CONFLICT (open_slot) DO NOTHING
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("ALTER TABLE search_documents ALTER COLUMN words SET STORAGE EXTENDED, ALTER COLUMN heads SET STORAGE EXTENDED").run()
    }
}
