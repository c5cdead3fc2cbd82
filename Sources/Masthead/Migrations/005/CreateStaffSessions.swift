import Fluent

/// Signed-in admin browsers, kept apart from readers' sessions so neither can stand for the other.
struct CreateStaffSessions: AsyncMigration {
    var name: String { "005_CreateStaffSessions" }

    func prepare(on database: any Database) async throws {
        try await database.schema("staff_sessions")
            .id()
            .field("token_hash", .string, .required)
            .field("staff_id", .uuid, .required, .references("staff", "id", onDelete: .cascade))
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("staff_sessions").delete()
    }
}
