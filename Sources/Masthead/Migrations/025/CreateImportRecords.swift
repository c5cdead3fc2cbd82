import Fluent

/// What importers brought in from another platform, so a second run creates nothing twice,
/// and the old site's addresses, so links to them still arrive.
struct CreateImportRecords: AsyncMigration {
    var name: String { "025_CreateImportRecords" }

    func prepare(on database: any Database) async throws {
        try await database.schema(ImportedItem.schema)
            .id()
            .field("source", .string, .required)
            .field("source_key", .string, .required)
            .field("target_id", .uuid, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "source", "source_key")
            .create()
        try await database.schema(LegacyPath.schema)
            .id()
            .field("path", .string, .required)
            .field("article_id", .uuid, .required, .references(Article.schema, .id, onDelete: .cascade))
            .unique(on: "path")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LegacyPath.schema).delete()
        try await database.schema(ImportedItem.schema).delete()
    }
}
