import Fluent
import SQLKit

/// Authors, topics and articles with their links. Written against the schema builder, never the
/// models, so it runs unchanged on SQLite and PostgreSQL however the models evolve.
struct CreatePublishing: AsyncMigration {
    var name: String { "001_CreatePublishing" }

    func prepare(on database: any Database) async throws {
        try await database.schema("authors")
            .id()
            .field("slug", .string, .required)
            .field("name", .string, .required)
            .field("bio", .string, .required)
            .field("photo_path", .string)
            .field("created_at", .datetime)
            .unique(on: "slug")
            .create()

        try await database.schema("topics")
            .id()
            .field("slug", .string, .required)
            .field("kind", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "slug")
            .create()

        try await database.schema("topic_names")
            .id()
            .field("topic_id", .uuid, .required, .references("topics", "id", onDelete: .cascade))
            .field("edition", .string, .required)
            .field("name", .string, .required)
            .field("description", .string, .required)
            .unique(on: "topic_id", "edition")
            .create()

        try await database.schema("articles")
            .id()
            .field("slug", .string, .required)
            .field("edition", .string, .required)
            .field("kind", .string, .required)
            .field("status", .string, .required)
            .field("visibility", .string, .required)
            .field("title", .string, .required)
            .field("dek", .string, .required)
            .field("body_markdown", .string, .required)
            .field("preview_html", .string, .required)
            .field("rest_html", .string, .required)
            .field("published_at", .datetime)
            .field("content_updated_at", .datetime)
            .field("image_path", .string)
            .field("image_width", .int)
            .field("image_height", .int)
            .field("image_alt", .string, .required)
            .field("image_caption", .string, .required)
            .field("image_credit", .string, .required)
            .field("translation_group", .uuid)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "edition", "slug")
            .create()

        try await database.schema("article_authors")
            .id()
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .field("author_id", .uuid, .required, .references("authors", "id", onDelete: .restrict))
            .field("position", .int, .required)
            .unique(on: "article_id", "author_id")
            .create()

        try await database.schema("article_topics")
            .id()
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .field("topic_id", .uuid, .required, .references("topics", "id", onDelete: .cascade))
            .unique(on: "article_id", "topic_id")
            .create()

        try await database.schema("site_state")
            .field("key", .string, .identifier(auto: false))
            .field("value", .int64, .required)
            .create()
        try await (database as! any SQLDatabase).insert(into: "site_state")
            .columns("key", "value")
            .values(SQLBind("content_generation"), SQLBind(Int64(1)))
            .run()
    }

    func revert(on database: any Database) async throws {
        for table in ["site_state", "article_topics", "article_authors", "articles", "topic_names", "topics", "authors"] {
            try await database.schema(table).delete()
        }
    }
}
