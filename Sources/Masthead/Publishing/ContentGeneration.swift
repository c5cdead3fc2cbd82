import Fluent
import SQLKit

/// A number that changes whenever anything readers see changes. Cached pages are keyed by it,
/// so one increment invalidates every instance's cache (each polls it, see `GenerationWatcher`).
enum ContentGeneration {
    static let key = "content_generation"

    static func current(on database: any Database) async throws -> Int64 {
        let row = try await (database as! any SQLDatabase).select()
            .column("value").from("site_state").where("key", .equal, key)
            .first()
        return try row?.decode(column: "value", as: Int64.self) ?? 0
    }

    @discardableResult
    static func bump(on database: any Database) async throws -> Int64 {
        try await (database as! any SQLDatabase).update("site_state")
            .set(SQLIdentifier("value"), to: SQLBinaryExpression(SQLIdentifier("value"), .add, SQLLiteral.numeric("1")))
            .where("key", .equal, key)
            .run()
        return try await current(on: database)
    }
}
