import Fluent
import SQLKit

/// Indexes for the queries every public page makes: published articles by edition and time,
/// and the link tables walked from either side.
struct IndexPublishing: AsyncMigration {
    var name: String { "001_IndexPublishing" }

    private let indexes: [(name: String, table: String, columns: [String])] = [
        ("articles_listing_idx", "articles", ["edition", "status", "published_at"]),
        ("articles_kind_idx", "articles", ["edition", "kind", "status", "published_at"]),
        ("articles_translation_idx", "articles", ["translation_group"]),
        ("article_authors_author_idx", "article_authors", ["author_id"]),
        ("article_topics_topic_idx", "article_topics", ["topic_id"]),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for index in indexes {
            var builder = sql.create(index: index.name).on(index.table)
            for column in index.columns { builder = builder.column(column) }
            try await builder.run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for index in indexes {
            try await sql.drop(index: index.name).run()
        }
    }
}
