import Fluent

/// The newsroom's staff accounts: editors sign in with a password (bcrypt) and, later, TOTP.
struct CreateStaff: AsyncMigration {
    var name: String { "004_CreateStaff" }

    func prepare(on database: any Database) async throws {
        try await database.schema("staff")
            .id()
            .field("email", .string, .required)
            .field("name", .string, .required)
            .field("role", .string, .required)
            .field("password_hash", .string, .required)
            .field("totp_secret", .string)
            .field("failed_sign_ins", .int, .required)
            .field("locked_until", .datetime)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "email")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("staff").delete()
    }
}
