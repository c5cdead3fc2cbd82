import Fluent
import SQLKit

/// Newsletters: the lists, who is subscribed to each (double opt-in), addresses never to be
/// mailed again, and the sends with one delivery row per recipient, written in the send's
/// transaction and worked off by the delivery worker.
struct CreateNewsletters: AsyncMigration {
    var name: String { "015_CreateNewsletters" }

    func prepare(on database: any Database) async throws {
        try await database.schema("newsletters")
            .id()
            .field("slug", .string, .required)
            .field("name", .string, .required)
            .field("description", .string, .required)
            .field("sender_name", .string, .required)
            .field("sender_email", .string, .required)
            .field("reply_to", .string)
            .field("edition", .string, .required)
            .field("for_new_members", .bool, .required)
            .field("active", .bool, .required)
            .field("position", .int, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "slug")
            .create()

        try await database.schema("newsletter_subscriptions")
            .id()
            .field("newsletter_id", .uuid, .required, .references("newsletters", "id", onDelete: .cascade))
            .field("email", .string, .required)
            .field("name", .string, .required)
            .field("member_id", .uuid, .references("members", "id", onDelete: .setNull))
            .field("status", .string, .required)
            .field("source", .string, .required)
            .field("confirm_token_hash", .string)
            .field("created_at", .datetime, .required)
            .field("confirmed_at", .datetime)
            .field("unsubscribed_at", .datetime)
            .unique(on: "newsletter_id", "email")
            .create()

        // Each confirmation email the public form asked for, by address and client: what its
        // rate limits count (subscription rows are reused, so they cannot).
        try await database.schema("newsletter_requests")
            .id()
            .field("email", .string, .required)
            .field("client_address", .string, .required)
            .field("created_at", .datetime, .required)
            .create()

        try await database.schema("mail_suppressions")
            .id()
            .field("email", .string, .required)
            .field("reason", .string, .required)
            .field("detail", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "email")
            .create()

        try await database.schema("newsletter_sends")
            .id()
            .field("subject", .string, .required)
            .field("intro", .string, .required)
            .field("article_ids", .string, .required)
            .field("newsletter_ids", .string, .required)
            .field("status", .string, .required)
            .field("scheduled_at", .datetime, .required)
            .field("rate_per_second", .int, .required)
            .field("created_by", .string, .required)
            .field("created_at", .datetime, .required)
            .field("queued_at", .datetime)
            .field("finished_at", .datetime)
            .field("recipients", .int, .required)
            .create()

        try await database.schema("newsletter_deliveries")
            .field("id", .int64, .identifier(auto: true))
            .field("send_id", .uuid, .required, .references("newsletter_sends", "id", onDelete: .cascade))
            .field("newsletter_id", .uuid, .required)
            .field("subscription_id", .uuid, .required)
            .field("email", .string, .required)
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("claimed_until", .datetime)
            .field("claimed_by", .string)
            .field("response", .string)
            .field("sent_at", .datetime)
            .unique(on: "send_id", "email")
            .create()

        let sql = database as! any SQLDatabase
        try await sql.create(index: "newsletter_subscriptions_email").on("newsletter_subscriptions").column("email").run()
        try await sql.create(index: "newsletter_subscriptions_token").on("newsletter_subscriptions").column("confirm_token_hash").run()
        try await sql.create(index: "newsletter_requests_email").on("newsletter_requests").column("email").column("created_at").run()
        try await sql.create(index: "newsletter_requests_client").on("newsletter_requests").column("client_address").column("created_at").run()
        try await sql.create(index: "newsletter_deliveries_due").on("newsletter_deliveries").column("status").column("next_attempt_at").run()
        try await sql.create(index: "newsletter_deliveries_send").on("newsletter_deliveries").column("send_id").column("status").run()
    }

    func revert(on database: any Database) async throws {
        for table in ["newsletter_deliveries", "newsletter_sends", "mail_suppressions", "newsletter_requests", "newsletter_subscriptions", "newsletters"] {
            try await database.schema(table).delete()
        }
    }
}
