import Fluent
import SQLKit

/// When each newsletter message was handed to the mail server (`DeliveryOutcomes`), so that a
/// killed worker's messages that may have gone are told from those that cannot have. Expand
/// only, and safe while older instances send: on PostgreSQL the column is added without a
/// rewrite, and both steps may be run again. The index is not built CONCURRENTLY: that waits
/// for every transaction under way, among them the other instances' wait for the migration
/// lock, which waits for this one; the partial index is one pass over the table.
struct RecordHandOvers: AsyncMigration {
    var name: String { "033_RecordHandOvers" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        // Only the few messages in flight: the index stays tiny however large the send.
        if sql.dialect.name == "postgresql" {
            try await sql.raw("ALTER TABLE newsletter_deliveries ADD COLUMN IF NOT EXISTS handed_over_at TIMESTAMPTZ").run()
            try await sql.raw("CREATE INDEX IF NOT EXISTS newsletter_deliveries_handed_over ON newsletter_deliveries (claimed_until) WHERE handed_over_at IS NOT NULL").run()
        } else {
            try await database.schema(NewsletterDelivery.schema).field("handed_over_at", .datetime).update()
            try await sql.raw("CREATE INDEX newsletter_deliveries_handed_over ON newsletter_deliveries (claimed_until) WHERE handed_over_at IS NOT NULL").run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "newsletter_deliveries_handed_over").ifExists().run()
        try await database.schema(NewsletterDelivery.schema).deleteField("handed_over_at").update()
    }
}
