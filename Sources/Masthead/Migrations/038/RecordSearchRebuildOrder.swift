import Fluent

/// Where a rebuild of the search index has got to, now that it files the oldest articles first
/// (`SearchIndexing.RebuildCursor`): the last article filed and when it was published.
struct RecordSearchRebuildOrder: AsyncMigration {
    var name: String { "038_RecordSearchRebuildOrder" }

    func prepare(on database: any Database) async throws {
        // One column at a time: SQLite alters a table one change per statement.
        try await database.schema(SearchRebuild.schema).field("resume_published_at", .datetime).update()
        try await database.schema(SearchRebuild.schema).field("resume_article", .uuid).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SearchRebuild.schema).deleteField("resume_article").update()
        try await database.schema(SearchRebuild.schema).deleteField("resume_published_at").update()
    }
}
