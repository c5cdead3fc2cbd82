import Foundation
import SQLKit

/// The index in SQLite's FTS5: a contentless table of words (title, names, body) whose row ids
/// are those of `search_documents`, which holds what filters and ranks them.
struct SQLiteSearchIndex: SearchIndex {
    static let words = "search_fts"

    func file(_ document: SearchDocument, on database: any SQLDatabase) async throws {
        try await remove(articleID: document.articleID, on: database)
        for row in document.rows {
            let inserted = try await database.raw("""
                INSERT INTO search_documents (article_id, part, visibility, edition, kind, published_at)
                VALUES (\(bind: document.articleID), \(bind: row.part.rawValue), \(bind: document.visibility.rawValue),
                        \(bind: document.edition), \(bind: document.kind.rawValue), \(bind: document.publishedAt.timeIntervalSince1970))
                RETURNING id
                """).first()
            let id = try inserted?.decode(column: "id", as: Int64.self) ?? 0
            try await database.raw("""
                INSERT INTO search_fts (rowid, title, names, body)
                VALUES (\(bind: id), \(bind: document.title), \(bind: document.names), \(bind: row.body))
                """).run()
        }
    }

    func remove(articleID: UUID, on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_documents WHERE article_id = \(bind: articleID))").run()
        try await database.raw("DELETE FROM search_documents WHERE article_id = \(bind: articleID)").run()
    }

    func prune(on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM search_fts WHERE rowid IN (" + SearchSQL.unpublished + ")").run()
        try await database.raw("DELETE FROM search_documents WHERE id IN (" + SearchSQL.unpublished + ")").run()
    }

    func search(
        _ query: SearchQuery, filters: SearchFilters, audience: SearchAudience, now: Date,
        offset: Int, limit: Int, on database: any SQLDatabase
    ) async throws -> (total: Int, hits: [SearchHit]) {
        guard !query.isEmpty else { return (0, []) }
        // CROSS JOIN keeps the words table first: SQLite would otherwise be free to walk the
        // documents by a filter and ask FTS5 about each one.
        return try await SearchSQL.page(
            matching: "FROM search_fts CROSS JOIN search_documents d ON d.id = search_fts.rowid WHERE search_fts MATCH \(bind: Self.expression(query))",
            bestFirst: "bm25(search_fts, 10.0, 5.0, 1.0) * \(SearchSQL.recencyBoost(now: now)) ASC",
            filters, audience: audience, now: now, offset: offset, limit: limit, on: database
        )
    }

    /// The FTS5 query: terms joined by `AND`, prefixes as `*`, names one typo away by `OR`,
    /// phrases as one quoted string.
    static func expression(_ query: SearchQuery) -> String {
        SearchSQL.expression(query, syntax: .init(quote: quoted, prefix: "*", or: " OR ", and: " AND ") { quoted($0.joined(separator: " ")) })
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
