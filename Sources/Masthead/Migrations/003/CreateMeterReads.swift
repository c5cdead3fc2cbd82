import Fluent
import SQLKit

/// Gated articles opened on a metered allowance, counted on the server per reader.
struct CreateMeterReads: AsyncMigration {
    var name: String { "003_CreateMeterReads" }

    func prepare(on database: any Database) async throws {
        try await database.schema("meter_reads")
            .id()
            .field("reader_key", .string, .required)
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .field("read_at", .datetime, .required)
            .unique(on: "reader_key", "article_id")
            .create()
        try await (database as! any SQLDatabase).create(index: "meter_reads_reader_idx")
            .on("meter_reads").column("reader_key").column("read_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("meter_reads").delete()
    }
}
