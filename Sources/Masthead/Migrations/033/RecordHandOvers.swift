import Fluent
import SQLKit

/// When each newsletter message was handed to the mail server (`DeliveryOutcomes`), so that a
/// killed worker's messages that may have gone are told from those that cannot have. Expand
/// only: a column older instances never read.
struct RecordHandOvers: AsyncMigration {
    var name: String { "033_RecordHandOvers" }

    func prepare(on database: any Database) async throws {
        try await database.schema(NewsletterDelivery.schema).field("handed_over_at", .datetime).update()
        // Only the few messages in flight: the index stays tiny however large the send.
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX newsletter_deliveries_handed_over ON newsletter_deliveries (claimed_until) WHERE handed_over_at IS NOT NULL").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "newsletter_deliveries_handed_over").ifExists().run()
        try await database.schema(NewsletterDelivery.schema).deleteField("handed_over_at").update()
    }
}
