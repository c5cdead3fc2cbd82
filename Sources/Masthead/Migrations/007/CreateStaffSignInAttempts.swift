import Fluent

/// Failed staff sign-ins counted per account and client address, so that a stranger guessing
/// passwords locks out only themselves, never the account's owner. Replaces the per-account
/// counter on `staff`.
struct CreateStaffSignInAttempts: AsyncMigration {
    var name: String { "007_CreateStaffSignInAttempts" }

    func prepare(on database: any Database) async throws {
        try await database.schema("staff_sign_in_attempts")
            .id()
            .field("staff_id", .uuid, .required, .references("staff", "id", onDelete: .cascade))
            .field("client_address", .string, .required)
            .field("failures", .int, .required)
            .field("locked_until", .datetime)
            .unique(on: "staff_id", "client_address")
            .create()
        // One column at a time: SQLite alters a table one change per statement.
        try await database.schema("staff").deleteField("failed_sign_ins").update()
        try await database.schema("staff").deleteField("locked_until").update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("staff").field("failed_sign_ins", .int, .required, .sql(.default(0))).update()
        try await database.schema("staff").field("locked_until", .datetime).update()
        try await database.schema("staff_sign_in_attempts").delete()
    }
}
