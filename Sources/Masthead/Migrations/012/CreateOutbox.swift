import Fluent
import SQLKit

/// Mail waiting to be sent, written in the same transaction as what it tells of.
struct CreateOutbox: AsyncMigration {
    var name: String { "012_CreateOutbox" }

    func prepare(on database: any Database) async throws {
        try await database.schema("outbox")
            .id()
            .field("purpose", .string, .required)
            .field("from_email", .string, .required)
            .field("from_name", .string)
            .field("to_email", .string, .required)
            .field("to_name", .string)
            .field("subject", .string, .required)
            .field("text_body", .string, .required)
            .field("html_body", .string, .required)
            .field("extra_headers", .string, .required)
            .field("message_id", .string, .required)
            .field("created_at", .datetime, .required)
            .field("send_after", .datetime, .required)
            .field("claimed_until", .datetime)
            .field("attempts", .int, .required)
            .field("sent_at", .datetime)
            .field("failed_at", .datetime)
            .field("last_error", .string)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "outbox_due").on("outbox").column("sent_at").column("send_after").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("outbox").delete()
    }
}
