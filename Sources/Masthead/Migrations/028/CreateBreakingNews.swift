import Fluent
import SQLKit

/// Breaking news: a banner across one edition's pages for a set time, the newsletters that
/// carry the alert by email (sent as a card: headline, dek and link, never gated text), and the
/// browsers that take it by Web Push, with each alert's deliveries to them.
struct CreateBreakingNews: AsyncMigration {
    var name: String { "028_CreateBreakingNews" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BreakingNews.schema)
            .id()
            .field("article_id", .uuid, .required, .references(Article.schema, .id, onDelete: .cascade))
            .field("edition", .string, .required)
            .field("headline", .string, .required)
            .field("starts_at", .datetime, .required)
            .field("ends_at", .datetime, .required)
            .field("expiry_noted", .bool, .required)
            .field("created_by", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "breaking_news_expiry").on(BreakingNews.schema).column("expiry_noted").column("ends_at").run()
        try await database.schema(PushSubscription.schema)
            .id()
            .field("endpoint", .string, .required)
            .field("p256dh", .string, .required)
            .field("auth", .string, .required)
            .field("edition", .string, .required)
            .field("member_id", .uuid, .references(Member.schema, .id, onDelete: .cascade))
            .field("client_address", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "endpoint")
            .create()
        try await sql.create(index: "push_subscriptions_edition").on(PushSubscription.schema).column("edition").run()
        try await sql.create(index: "push_subscriptions_client").on(PushSubscription.schema).column("client_address").column("created_at").run()
        try await database.schema(PushDelivery.schema)
            .field("id", .int64, .identifier(auto: true))
            // No reference: a delivery to a browser that has since unsubscribed keeps its record.
            .field("subscription_id", .uuid, .required)
            .field("banner_id", .uuid, .required, .references(BreakingNews.schema, .id, onDelete: .cascade))
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("claimed_until", .datetime)
            .field("response", .string)
            .unique(on: "banner_id", "subscription_id")
            .create()
        try await sql.create(index: "push_deliveries_due").on(PushDelivery.schema).column("status").column("next_attempt_at").run()
        try await database.schema(Newsletter.schema).field("breaking_alerts", .bool, .required, .sql(.default(false))).update()
        try await database.schema(NewsletterSend.schema).field("alert", .bool, .required, .sql(.default(false))).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(PushDelivery.schema).delete()
        try await database.schema(PushSubscription.schema).delete()
        try await database.schema(NewsletterSend.schema).deleteField("alert").update()
        try await database.schema(Newsletter.schema).deleteField("breaking_alerts").update()
        try await database.schema(BreakingNews.schema).delete()
    }
}
