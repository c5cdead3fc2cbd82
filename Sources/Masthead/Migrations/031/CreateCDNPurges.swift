import Fluent
import SQLKit

/// Purges queued for the CDN in the transactions of the changes they are for (`CDNPurges`).
struct CreateCDNPurges: AsyncMigration {
    var name: String { "031_CreateCDNPurges" }

    func prepare(on database: any Database) async throws {
        try await database.schema(CDNPurges.schema)
            .field("id", .int64, .identifier(auto: true))
            .field("keys", .string, .required)
            .field("created_at", .datetime, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("claimed_until", .datetime)
            .field("attempts", .int, .required)
            .field("echo", .bool, .required, .sql(.default(false)))
            .field("last_error", .string)
            .create()
        try await (database as! any SQLDatabase).create(index: "cdn_purges_due").on(CDNPurges.schema).column("next_attempt_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(CDNPurges.schema).delete()
    }
}
