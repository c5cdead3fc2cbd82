import Fluent
import SQLKit

/// Moves each article's Markdown source and gated rest into `article_texts`, so that no query
/// for public pages loads them (`ArticleText`), and records on the article whether it has
/// gated text at all. In one transaction, so a failure leaves the schema as it was; stop every
/// instance before upgrading, as older ones read the dropped columns.
struct MoveGatedTextApart: AsyncMigration {
    var name: String { "009_MoveGatedTextApart" }

    func prepare(on database: any Database) async throws {
        try await database.writeTransaction { database in try await moveApart(on: database) }
    }

    private func moveApart(on database: any Database) async throws {
        try await database.schema("article_texts")
            .id()
            .field("article_id", .uuid, .required, .references("articles", "id", onDelete: .cascade))
            .field("body_markdown", .string, .required)
            .field("rest_html", .string, .required)
            .unique(on: "article_id")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("INSERT INTO article_texts (id, article_id, body_markdown, rest_html) SELECT id, id, body_markdown, rest_html FROM articles").run()
        try await database.schema("articles").field("has_gated_text", .bool, .required, .sql(.default(false))).update()
        try await sql.raw("UPDATE articles SET has_gated_text = (rest_html <> '')").run()
        // One column at a time: SQLite alters a table one change per statement.
        try await database.schema("articles").deleteField("body_markdown").update()
        try await database.schema("articles").deleteField("rest_html").update()
    }

    func revert(on database: any Database) async throws {
        try await database.writeTransaction { database in try await bringBack(on: database) }
    }

    private func bringBack(on database: any Database) async throws {
        try await database.schema("articles").field("body_markdown", .string, .required, .sql(.default(""))).update()
        try await database.schema("articles").field("rest_html", .string, .required, .sql(.default(""))).update()
        let sql = database as! any SQLDatabase
        try await sql.raw("UPDATE articles SET body_markdown = COALESCE((SELECT body_markdown FROM article_texts WHERE article_id = articles.id), ''), rest_html = COALESCE((SELECT rest_html FROM article_texts WHERE article_id = articles.id), '')").run()
        try await database.schema("articles").deleteField("has_gated_text").update()
        try await database.schema("article_texts").delete()
    }
}
