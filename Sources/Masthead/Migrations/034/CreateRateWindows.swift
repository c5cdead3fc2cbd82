import Fluent
import SQLKit

/// The rate limiters' counts added up across instances (`SharedRateWindows`).
struct CreateRateWindows: AsyncMigration {
    var name: String { "034_CreateRateWindows" }

    func prepare(on database: any Database) async throws {
        try await database.schema(SharedRateWindows.schema)
            .field("scope", .string, .required)
            .field("caller", .string, .required)
            .field("minute", .int, .required)
            .field("count", .int, .required)
            .unique(on: "scope", "caller", "minute")
            .create()
        try await (database as! any SQLDatabase).create(index: "rate_windows_minute").on(SharedRateWindows.schema).column("minute").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SharedRateWindows.schema).delete()
    }
}
