import Fluent
import SQLKit

/// The instances serving one database, each seen by its heartbeat (`InstanceRegistry`).
struct CreateInstances: AsyncMigration {
    var name: String { "032_CreateInstances" }

    func prepare(on database: any Database) async throws {
        try await database.schema(InstanceRegistry.schema)
            .field("name", .string, .identifier(auto: false))
            .field("role", .string, .required)
            .field("migrations", .int, .required)
            .field("secret_fingerprint", .string, .required)
            .field("started_at", .datetime, .required)
            .field("seen_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(InstanceRegistry.schema).delete()
    }
}
