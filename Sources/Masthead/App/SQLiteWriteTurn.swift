import Fluent
import SQLKit

/// For a SQLite transaction that reads and then writes: takes the database's one write lock
/// before the first read. A transaction that read first and wrote later could find another's
/// write committed in between and fail (SQLITE_BUSY_SNAPSHOT) instead of waiting its turn.
/// PostgreSQL needs nothing here: its row and advisory locks make writers wait.
enum SQLiteWriteTurn {
    static func take(on db: any Database, table: String) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name != "postgresql" else { return }
        // An UPDATE that matches nothing still begins the write transaction.
        try await sql.raw("UPDATE \(ident: table) SET id = id WHERE 1 = 0").run()
    }
}
