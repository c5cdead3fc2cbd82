import Fluent
import SQLKit

/// Paid access given by staff rather than bought: to one member, or to everyone whose address
/// is at an email domain (a university, a ministry, a partner newsroom), until a date. And the
/// start of a subscription's current period, from which a failed card's grace is counted.
struct AddComplimentaryAccess: AsyncMigration {
    var name: String { "011_AddComplimentaryAccess" }

    func prepare(on database: any Database) async throws {
        try await database.schema("complimentary_access")
            .id()
            .field("member_id", .uuid, .references("members", "id", onDelete: .cascade))
            .field("email_domain", .string)
            .field("until", .datetime, .required)
            .field("note", .string, .required)
            .field("granted_by", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "complimentary_access_member").on("complimentary_access").column("member_id").run()
        try await database.schema("subscriptions").field("current_period_start", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("subscriptions").deleteField("current_period_start").update()
        try await database.schema("complimentary_access").delete()
    }
}
