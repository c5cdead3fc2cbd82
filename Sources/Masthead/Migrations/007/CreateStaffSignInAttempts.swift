import Fluent

/// Staff sign-in attempts counted per address typed and client, whether or not the address
/// has an account: a stranger guessing passwords locks out only themselves, never the
/// account's owner, and the lockout answers alike for addresses with and without an account.
/// Replaces the per-account counter on `staff`.
struct CreateStaffSignInAttempts: AsyncMigration {
    var name: String { "007_CreateStaffSignInAttempts" }

    func prepare(on database: any Database) async throws {
        try await database.schema("staff_sign_in_attempts")
            .id()
            .field("email", .string, .required)
            .field("client_address", .string, .required)
            .field("attempts", .int, .required)
            .field("last_attempt_at", .datetime, .required)
            .field("locked_until", .datetime)
            .unique(on: "email", "client_address")
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
