import Fluent

/// Personal tokens staff give newsroom tools and scripts for the Admin API: scoped, expiring,
/// stored only as digests.
struct CreateStaffAPITokens: AsyncMigration {
    var name: String { "017_CreateStaffAPITokens" }

    func prepare(on database: any Database) async throws {
        try await database.schema("staff_api_tokens")
            .id()
            .field("staff_id", .uuid, .required, .references("staff", "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("token_hash", .string, .required)
            .field("token_hint", .string, .required)
            .field("scopes", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("created_at", .datetime)
            .field("revoked_at", .datetime)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("staff_api_tokens").delete()
    }
}
