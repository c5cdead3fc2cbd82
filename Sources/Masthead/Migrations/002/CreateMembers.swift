import Fluent

/// Reader accounts, their one-time sign-in links and their sessions.
struct CreateMembers: AsyncMigration {
    var name: String { "002_CreateMembers" }

    func prepare(on database: any Database) async throws {
        try await database.schema("members")
            .id()
            .field("email", .string, .required)
            .field("name", .string, .required)
            .field("paid_until", .datetime)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "email")
            .create()

        try await database.schema("login_tokens")
            .id()
            .field("token_hash", .string, .required)
            .field("purpose", .string, .required)
            .field("email", .string, .required)
            .field("name", .string, .required)
            .field("return_path", .string, .required)
            .field("edition", .string, .required)
            .field("client_address", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("used_at", .datetime)
            .unique(on: "token_hash")
            .create()

        try await database.schema("sessions")
            .id()
            .field("token_hash", .string, .required)
            .field("member_id", .uuid, .required, .references("members", "id", onDelete: .cascade))
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["sessions", "login_tokens", "members"] {
            try await database.schema(table).delete()
        }
    }
}
