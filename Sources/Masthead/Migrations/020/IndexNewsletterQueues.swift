import Fluent
import SQLKit

/// The delivery queue's index in the order workers claim from it (due first, then as
/// enqueued), so that a claim reads its batch from the front of the index and stops. Ordered
/// by id alone, every claim sorted all queued deliveries: a send to 100,000 readers spent
/// more time choosing its next 50 than sending them. And who unsubscribed lately, which a
/// send's progress counts.
struct IndexNewsletterQueues: AsyncMigration {
    var name: String { "020_IndexNewsletterQueues" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "newsletter_deliveries_due").ifExists().run()
        try await sql.create(index: "newsletter_deliveries_due").on("newsletter_deliveries")
            .column("status").column("next_attempt_at").column("id").run()
        try await sql.create(index: "newsletter_subscriptions_left").on("newsletter_subscriptions")
            .column("status").column("unsubscribed_at").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "newsletter_subscriptions_left").ifExists().run()
        try await sql.drop(index: "newsletter_deliveries_due").ifExists().run()
        try await sql.create(index: "newsletter_deliveries_due").on("newsletter_deliveries")
            .column("status").column("next_attempt_at").run()
    }
}
