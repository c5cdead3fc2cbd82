import Fluent
import SQLKit

extension Database {
    /// A transaction that writes. Every one in Masthead goes through here, so that on SQLite it
    /// takes the database's one write lock before its first statement, as `BEGIN IMMEDIATE`
    /// would (Fluent's SQLite driver begins every transaction deferred). A deferred transaction
    /// that read first and wrote later would fail at once with SQLITE_BUSY_SNAPSHOT whenever
    /// another connection committed in between; this one waits its turn instead, and what it
    /// reads inside stays true until it commits (what was read before it began is not covered:
    /// read again inside what a write depends on). Nested in a transaction that has already
    /// read, it is too late to wait: the outer one must be a write transaction too. PostgreSQL
    /// needs nothing here: its row and advisory locks make writers wait.
    public func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await transaction { db in
            try await takeSQLiteWriteLock(on: db)
            return try await body(db)
        }
    }

    /// A transaction that only reads: one consistent view of every table, taking no write lock,
    /// so that writers carry on meanwhile (a SQLite read transaction sees the database as of its
    /// first read; PostgreSQL is told to keep one snapshot and refuse writes).
    public func readOnlyTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await transaction { db in
            let sql = db as! any SQLDatabase
            if sql.dialect.name == "postgresql" {
                try await sql.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").run()
            }
            return try await body(db)
        }
    }
}

private func takeSQLiteWriteLock(on db: any Database) async throws {
    let sql = db as! any SQLDatabase
    guard sql.dialect.name != "postgresql" else { return }
    // An UPDATE that matches nothing still begins the write transaction; Fluent's own table
    // of migrations is there on every database, and SQLite's lock covers the whole file.
    try await sql.raw("UPDATE \(ident: MigrationLog.schema) SET id = id WHERE 1 = 0").run()
}
