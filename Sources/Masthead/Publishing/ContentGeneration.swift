import Fluent
import SQLKit

/// A number that changes whenever anything readers see changes. Cached pages are keyed by it,
/// so one increment invalidates every instance's cache (each polls it, see `GenerationWatcher`).
enum ContentGeneration {
    static let key = "content_generation"

    static func current(on database: any Database) async throws -> Int64 {
        try await SiteCounters.values(on: database)[key] ?? 0
    }

    /// Moves the generation on, and queues a purge of the pages a CDN holds that the change
    /// touched, in the caller's transaction: every instance and the CDN hear of it, or none.
    @discardableResult
    static func bump(on database: any Database, purging keys: SurrogateKeys) async throws -> Int64 {
        try await SiteCounters.increment(key, on: database)
        try await CDNPurges.enqueue(keys, on: database)
        return try await current(on: database)
    }
}

/// Counters in `site_state` that every instance watches; a change tells each instance to drop
/// what it keeps in memory on the counter's account. On PostgreSQL each change is also
/// announced on `channel`, delivered when its transaction commits, so that instances hear of
/// it at once rather than at their next poll (`SiteChangeListener`).
enum SiteCounters {
    static let channel = "masthead_site_state"

    static func values(on database: any Database) async throws -> [String: Int64] {
        let rows = try await (database as! any SQLDatabase).select().columns("key", "value").from("site_state").all()
        var values: [String: Int64] = [:]
        for row in rows {
            values[try row.decode(column: "key", as: String.self)] = try row.decode(column: "value", as: Int64.self)
        }
        return values
    }

    static func increment(_ key: String, on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.update("site_state")
            .set(SQLIdentifier("value"), to: SQLBinaryExpression(SQLIdentifier("value"), .add, SQLLiteral.numeric("1")))
            .where("key", .equal, key)
            .run()
        if sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_notify(\(bind: channel), \(bind: key))").run()
        }
    }
}
