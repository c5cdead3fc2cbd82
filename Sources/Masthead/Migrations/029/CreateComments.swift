import Fluent
import SQLKit

/// Members' comments on articles, one level of replies deep, with readers' reports and the
/// members barred from commenting; and each article's choice to take comments or not.
struct CreateComments: AsyncMigration {
    var name: String { "029_CreateComments" }

    func prepare(on database: any Database) async throws {
        try await database.schema(Comment.schema)
            .id()
            .field("article_id", .uuid, .required, .references(Article.schema, .id, onDelete: .cascade))
            // No reference: an export lists comments by id, a reply possibly before its thread's
            // first comment, and a reply whose thread is gone is simply not shown.
            .field("parent_id", .uuid)
            .field("member_id", .uuid, .required, .references(Member.schema, .id, onDelete: .cascade))
            .field("author_name", .string, .required)
            .field("body", .string, .required)
            .field("status", .string, .required)
            .field("badge", .string)
            .field("reports", .int, .required)
            .field("created_at", .datetime, .required)
            .field("edited_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "comments_article").on(Comment.schema).column("article_id").column("created_at").run()
        try await sql.create(index: "comments_member").on(Comment.schema).column("member_id").column("created_at").run()
        try await sql.create(index: "comments_status").on(Comment.schema).column("status").column("created_at").run()
        try await database.schema(CommentReport.schema)
            .id()
            .field("comment_id", .uuid, .required, .references(Comment.schema, .id, onDelete: .cascade))
            .field("member_id", .uuid, .required, .references(Member.schema, .id, onDelete: .cascade))
            .field("created_at", .datetime, .required)
            .unique(on: "comment_id", "member_id")
            .create()
        // By address, not by account: deleting the account and joining again lifts nothing.
        try await database.schema(CommentBan.schema)
            .field("email", .string, .identifier(auto: false))
            .field("banned_by", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema(Article.schema).field("comments", .string, .required, .sql(.default(CommentsChoice.byKind.rawValue))).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Article.schema).deleteField("comments").update()
        try await database.schema(CommentBan.schema).delete()
        try await database.schema(CommentReport.schema).delete()
        try await database.schema(Comment.schema).delete()
    }
}
