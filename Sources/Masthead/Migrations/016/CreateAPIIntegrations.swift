import Fluent

/// Integrations that read the Content API, each with its own key (stored only as a digest) and
/// the access level its readers get.
struct CreateAPIIntegrations: AsyncMigration {
    var name: String { "016_CreateAPIIntegrations" }

    func prepare(on database: any Database) async throws {
        try await database.schema("api_integrations")
            .id()
            .field("name", .string, .required)
            .field("key_hash", .string, .required)
            .field("key_hint", .string, .required)
            .field("access", .string, .required)
            .field("created_by", .uuid, .references("staff", "id", onDelete: .setNull))
            .field("created_at", .datetime)
            .field("revoked_at", .datetime)
            .unique(on: "key_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("api_integrations").delete()
    }
}
