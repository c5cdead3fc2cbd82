import Fluent
import SQLKit

/// A number that changes whenever anything readers see changes. Cached pages are keyed by it,
/// so one increment invalidates every instance's cache (each polls it, see `GenerationWatcher`).
enum ContentGeneration {
    static let key = "content_generation"

    static func current(on database: any Database) async throws -> Int64 {
        try await SiteCounters.values(on: database)[key] ?? 0
    }

    @discardableResult
    static func bump(on database: any Database) async throws -> Int64 {
        try await SiteCounters.increment(key, on: database)
        return try await current(on: database)
    }
}

/// Counters in `site_state` that every instance polls; a change tells each instance to drop
/// what it keeps in memory on the counter's account.
enum SiteCounters {
    static func values(on database: any Database) async throws -> [String: Int64] {
        let rows = try await (database as! any SQLDatabase).select().columns("key", "value").from("site_state").all()
        var values: [String: Int64] = [:]
        for row in rows {
            values[try row.decode(column: "key", as: String.self)] = try row.decode(column: "value", as: Int64.self)
        }
        return values
    }

    static func increment(_ key: String, on database: any Database) async throws {
        try await (database as! any SQLDatabase).update("site_state")
            .set(SQLIdentifier("value"), to: SQLBinaryExpression(SQLIdentifier("value"), .add, SQLLiteral.numeric("1")))
            .where("key", .equal, key)
            .run()
    }
}
