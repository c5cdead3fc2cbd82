import Fluent
import SQLKit

/// Rebuilds of the search index asked for from the admin or the command line: one row each,
/// with who asked, which instance runs it (a claim with a lease, taken over when it lapses),
/// how far it has gone, and how it ended. `open_slot` is 1 while a rebuild is queued or
/// running and NULL after: unique, so at most one is ever open.
struct RecordSearchRebuilds: AsyncMigration {
    var name: String { "023_RecordSearchRebuilds" }

    func prepare(on database: any Database) async throws {
        try await database.schema(SearchRebuild.schema)
            .id()
            .field("status", .string, .required)
            .field("requested_by", .string, .required)
            .field("requested_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("open_slot", .int)
            .field("claim", .uuid)
            .field("claimed_until", .datetime)
            .field("resume_after", .uuid)
            .field("done", .int, .required)
            .field("total", .int, .required)
            .field("failure", .string)
            .field("takeovers", .int, .required)
            .unique(on: "open_slot")
            .create()
        try await (database as! any SQLDatabase).create(index: "search_rebuilds_requested_idx")
            .on(SearchRebuild.schema).column("requested_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SearchRebuild.schema).delete()
    }
}
