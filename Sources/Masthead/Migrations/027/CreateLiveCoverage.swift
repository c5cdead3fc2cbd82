import Fluent
import SQLKit

/// Live stories: an article covered as it happens, with a public summary ("what we know")
/// and a stream of timestamped, signed updates that follow the article's visibility.
struct CreateLiveCoverage: AsyncMigration {
    var name: String { "027_CreateLiveCoverage" }

    func prepare(on database: any Database) async throws {
        try await database.schema(LiveStory.schema)
            .field("article_id", .uuid, .identifier(auto: false), .references(Article.schema, .id, onDelete: .cascade))
            .field("summary_markdown", .string, .required)
            .field("summary_html", .string, .required)
            .field("started_at", .datetime, .required)
            .field("ended_at", .datetime)
            .field("version", .int64, .required)
            .create()
        try await database.schema(LiveUpdate.schema)
            .id()
            .field("article_id", .uuid, .required, .references(LiveStory.schema, "article_id", onDelete: .cascade))
            .field("sequence", .int64, .required)
            .field("version", .int64, .required)
            .field("headline", .string, .required)
            .field("markdown", .string, .required)
            .field("html", .string, .required)
            .field("key_event", .bool, .required)
            .field("pinned", .bool, .required)
            .field("author_name", .string, .required)
            .field("staff_id", .uuid)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("deleted", .bool, .required)
            .unique(on: "article_id", "sequence")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "live_updates_changes").on(LiveUpdate.schema).column("article_id").column("version").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LiveUpdate.schema).delete()
        try await database.schema(LiveStory.schema).delete()
    }
}
