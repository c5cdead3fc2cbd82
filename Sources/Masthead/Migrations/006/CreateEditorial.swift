import Fluent

/// What the editors' admin keeps: SEO fields and the creating staff member on articles,
/// revisions, slug redirects, public corrections, the audit log, site settings and staff
/// invitation/reset tokens.
struct CreateEditorial: AsyncMigration {
    var name: String { "006_CreateEditorial" }

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
        for (column, type) in [("seo_title", DatabaseSchema.DataType.string), ("seo_description", .string), ("created_by", .uuid)] {
            try await database.schema("articles").field(.string(column), type).update()
        }
        // The last accepted TOTP step, so a code cannot be used twice.
        try await database.schema("staff").field("totp_last_counter", .int64).update()

        try await database.schema("article_revisions")
            .id()
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .field("number", .int, .required)
            .field("staff_name", .string, .required)
            .field("action", .string, .required)
            .field("snapshot", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "article_id", "number")
            .create()

        try await database.schema("slug_redirects")
            .id()
            .field("edition", .string, .required)
            .field("slug", .string, .required)
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .unique(on: "edition", "slug")
            .create()

        try await database.schema("corrections")
            .id()
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .field("note", .string, .required)
            .field("staff_name", .string, .required)
            .field("created_at", .datetime, .required)
            .create()

        try await database.schema("audit_events")
            .id()
            .field("staff_email", .string, .required)
            .field("action", .string, .required)
            .field("subject", .string, .required)
            .field("created_at", .datetime, .required)
            .create()

        try await database.schema("site_settings")
            .field("key", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()

        try await database.schema("staff_tokens")
            .id()
            .field("staff_id", .uuid, .required, .references("staff", "id", onDelete: .cascade))
            .field("token_hash", .string, .required)
            .field("purpose", .string, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["staff_tokens", "site_settings", "audit_events", "corrections", "slug_redirects", "article_revisions"] {
            try await database.schema(table).delete()
        }
        try await database.schema("staff").deleteField("totp_last_counter").update()
        for column in ["seo_title", "seo_description", "created_by"] {
            try await database.schema("articles").deleteField(.string(column)).update()
        }
    }
}
