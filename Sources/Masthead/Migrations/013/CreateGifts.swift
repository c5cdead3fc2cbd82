import Fluent
import SQLKit

/// Gift subscriptions: one period of a plan, bought by a member for someone else's address,
/// paid in a one-off checkout and redeemed through an emailed link.
struct CreateGifts: AsyncMigration {
    var name: String { "013_CreateGifts" }

    func prepare(on database: any Database) async throws {
        try await database.schema("gifts")
            .id()
            // The gift outlives its giver's account (and checkout): the recipient still gets it.
            .field("checkout_id", .uuid, .references("checkouts", "id", onDelete: .setNull))
            .field("edition", .string, .required)
            .field("provider", .string, .required)
            .field("giver_email", .string, .required)
            .field("giver_name", .string, .required)
            .field("recipient_email", .string, .required)
            .field("recipient_name", .string, .required)
            .field("message", .string, .required)
            .field("plan_name", .string, .required)
            .field("interval", .string, .required)
            .field("amount_minor", .int, .required)
            .field("currency", .string, .required)
            .field("status", .string, .required)
            .field("provider_payment_id", .string)
            .field("redeem_token_hash", .string)
            .field("paid_at", .datetime)
            .field("redeemed_by", .uuid, .references("members", "id", onDelete: .setNull))
            .field("redeemed_at", .datetime)
            .field("access_until", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "checkout_id")
            .unique(on: "redeem_token_hash")
            .create()
        // A refund that arrived before the payment it refunds was known, kept to stop its gift.
        try await database.schema("billing_events").field("refunded_payment_id", .string).update()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "gifts_redeemed_by").on("gifts").column("redeemed_by").run()
        try await sql.create(index: "gifts_provider_payment").on("gifts").column("provider_payment_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("billing_events").deleteField("refunded_payment_id").update()
        try await database.schema("gifts").delete()
    }
}
