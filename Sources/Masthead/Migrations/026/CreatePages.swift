import Fluent

/// The outlet's standing pages (about us, contact, ethics, privacy) in each edition, and the
/// old site's addresses of pages an import brought in.
struct CreatePages: AsyncMigration {
    var name: String { "026_CreatePages" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Page.schema)
            .id()
            .field("edition", .string, .required)
            .field("slug", .string, .required)
            .field("title", .string, .required)
            .field("markdown", .string, .required)
            .field("html", .string, .required)
            .field("published", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "edition", "slug")
            .create()
        try await database.schema(LegacyPagePath.schema)
            .id()
            .field("path", .string, .required)
            .field("page_id", .uuid, .required, .references(Page.schema, .id, onDelete: .cascade))
            .unique(on: "path")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LegacyPagePath.schema).delete()
        try await database.schema(Page.schema).delete()
    }
}
