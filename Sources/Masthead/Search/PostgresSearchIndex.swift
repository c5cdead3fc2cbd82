import Foundation
import SQLKit

/// The index in PostgreSQL: each document row carries a `tsvector` of its words under the
/// `simple` configuration (the words are already normalised, and no one language's stemmer
/// suits an archive in four), title weighted A, names B, body D, behind a GIN index.
struct PostgresSearchIndex: SearchIndex {
    func file(_ document: SearchDocument, on database: any SQLDatabase) async throws {
        try await remove(articleID: document.articleID, on: database)
        for row in document.rows {
            try await database.raw("""
                INSERT INTO search_documents (article_id, part, visibility, edition, kind, published_at, words)
                VALUES (\(bind: document.articleID), \(bind: row.part.rawValue), \(bind: document.visibility.rawValue),
                        \(bind: document.edition), \(bind: document.kind.rawValue), \(bind: document.publishedAt.timeIntervalSince1970),
                        setweight(to_tsvector('simple', \(bind: document.title)), 'A')
                        || setweight(to_tsvector('simple', \(bind: document.names)), 'B')
                        || setweight(to_tsvector('simple', \(bind: row.body)), 'D'))
                """).run()
        }
    }

    func remove(articleID: UUID, on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM search_documents WHERE article_id = \(bind: articleID)").run()
    }

    func prune(on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM search_documents WHERE id IN (" + SearchSQL.unpublished + ")").run()
    }

    func search(
        _ query: SearchQuery, filters: SearchFilters, audience: SearchAudience, now: Date,
        offset: Int, limit: Int, on database: any SQLDatabase
    ) async throws -> (total: Int, hits: [SearchHit]) {
        guard !query.isEmpty else { return (0, []) }
        let tsquery: SQLQueryString = "to_tsquery('simple', \(bind: Self.expression(query)))"
        return try await SearchSQL.page(
            matching: "FROM search_documents d WHERE d.words @@ \(tsquery)",
            bestFirst: "ts_rank(d.words, \(tsquery)) * \(SearchSQL.recencyBoost(now: now)) DESC",
            filters, audience: audience, now: now, offset: offset, limit: limit, on: database
        )
    }

    /// The `tsquery`: terms joined by `&`, prefixes as `:*`, names one typo away by `|`,
    /// phrases by `<->`. Tokens hold letters and digits only and are quoted besides.
    static func expression(_ query: SearchQuery) -> String {
        SearchSQL.expression(query, syntax: .init(quote: quoted, prefix: ":*", or: " | ", and: " & ") { "(" + $0.map(quoted).joined(separator: " <-> ") + ")" })
    }

    private static func quoted(_ token: String) -> String {
        "'" + token.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\\", with: "\\\\") + "'"
    }
}
