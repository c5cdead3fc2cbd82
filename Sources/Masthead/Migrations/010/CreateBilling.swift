import Fluent
import SQLKit

/// Plans and their prices, members' subscriptions, the checkouts that start them, and the
/// payment provider's events already applied (so a replayed event changes nothing).
struct CreateBilling: AsyncMigration {
    var name: String { "010_CreateBilling" }

    func prepare(on database: any Database) async throws {
        try await database.schema("plans")
            .id()
            .field("slug", .string, .required)
            .field("name", .string, .required)
            .field("description", .string, .required)
            .field("interval", .string, .required)
            .field("trial_days", .int, .required)
            .field("active", .bool, .required)
            .field("position", .int, .required)
            .unique(on: "slug")
            .create()

        try await database.schema("plan_prices")
            .id()
            .field("plan_id", .uuid, .required, .references("plans", "id", onDelete: .cascade))
            .field("currency", .string, .required)
            .field("amount_minor", .int, .required)
            .field("provider_price_id", .string)
            .unique(on: "plan_id", "currency")
            .create()

        try await database.schema("checkouts")
            .id()
            .field("member_id", .uuid, .required, .references("members", "id", onDelete: .cascade))
            .field("price_id", .uuid, .required, .references("plan_prices", "id"))
            .field("return_path", .string, .required)
            .field("edition", .string, .required)
            .field("provider_session_id", .string)
            .field("created_at", .datetime, .required)
            .field("completed_at", .datetime)
            .create()

        try await database.schema("subscriptions")
            .id()
            .field("member_id", .uuid, .required, .references("members", "id", onDelete: .cascade))
            .field("plan_id", .uuid, .references("plans", "id", onDelete: .setNull))
            .field("provider", .string, .required)
            .field("provider_subscription_id", .string, .required)
            .field("provider_customer_id", .string, .required)
            .field("status", .string, .required)
            .field("current_period_end", .datetime, .required)
            .field("cancel_at_period_end", .bool, .required)
            .field("ended_at", .datetime)
            .field("amount_minor", .int, .required)
            .field("currency", .string, .required)
            .field("interval", .string, .required)
            .field("state_version", .int64, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "provider", "provider_subscription_id")
            .create()

        try await database.schema("billing_events")
            .id()
            .field("provider", .string, .required)
            .field("event_id", .string, .required)
            .field("type", .string, .required)
            .field("outcome", .string, .required)
            .field("received_at", .datetime, .required)
            .unique(on: "provider", "event_id")
            .create()

        let sql = database as! any SQLDatabase
        try await sql.create(index: "subscriptions_member").on("subscriptions").column("member_id").run()
        try await sql.create(index: "checkouts_member").on("checkouts").column("member_id").run()
    }

    func revert(on database: any Database) async throws {
        for table in ["billing_events", "subscriptions", "checkouts", "plan_prices", "plans"] {
            try await database.schema(table).delete()
        }
    }
}
