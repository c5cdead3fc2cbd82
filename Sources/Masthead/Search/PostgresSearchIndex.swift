import Foundation
import SQLKit

/// The index in PostgreSQL: each row carries two `tsvector`s under the `simple` configuration
/// (the words are already normalised, and no one language's stemmer suits an archive in four),
/// `words` with all of it and `heads` with its title and names, each behind a GIN index, and
/// its facets as plain columns.
///
/// A GIN index answers which rows match but not in what order, and checking a long article's
/// `tsvector` row by row down the key index costs more than the whole match. So the newest
/// matches are looked for in windows: the last month, then the last year, then everything,
/// each a bitmap of the GIN match and the key range, until one holds enough of them.
struct PostgresSearchIndex: SearchIndex {
    static let windows: [TimeInterval] = [30 * 86_400, 365 * 86_400]

    func file(_ documents: [SearchDocument], on database: any SQLDatabase) async throws {
        try await remove(articleIDs: documents.map(\.articleID), on: database)
        let rows = try await SearchSQL.keyedRows(documents, on: database)
        for chunk in rows.chunked(into: SearchSQL.rowsPerInsert) {
            let insert = database.insert(into: "search_documents")
                .columns("id", "article_id", "part", "visibility", "edition", "kind", "published_at", "words", "heads")
            for (key, document, row) in chunk {
                let values: [any SQLExpression] = [
                    SQLBind(key), SQLBind(document.articleID), SQLBind(row.part.rawValue), SQLBind(document.visibility.rawValue),
                    SQLBind(document.edition), SQLBind(document.kind.rawValue), SQLBind(document.publishedAt.timeIntervalSince1970),
                    "to_tsvector('simple', \(bind: document.heads + "\n" + row.body))" as SQLQueryString,
                    "to_tsvector('simple', \(bind: document.heads))" as SQLQueryString,
                ]
                insert.values(values)
            }
            try await insert.run()
        }
    }

    func remove(articleIDs: [UUID], on database: any SQLDatabase) async throws {
        for chunk in articleIDs.chunked(into: 2000) {
            try await database.raw("DELETE FROM search_documents WHERE article_id IN (\(binds: Array(chunk)))").run()
        }
    }

    func prune(on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM search_documents WHERE id IN (" + SearchSQL.unpublished + ")").run()
    }

    func beginRebuild(on database: any SQLDatabase) async throws {}

    func endRebuild(completed: Bool, on database: any SQLDatabase) async throws {}

    /// PostgreSQL's GIN index answers a prefix (`:*`) as it is.
    func prepared(_ query: SearchQuery, on database: any SQLDatabase) async throws -> SearchQuery { query }

    func newest(_ query: SearchQuery, in field: SearchField, scope: SearchScope, limit: Int, on database: any SQLDatabase) async throws -> [Int64] {
        let column: SQLQueryString = field == .words ? "d.words" : "d.heads"
        let newestSecond = SearchKey.publishedAt(scope.keys.upperBound - 1)
        let lowerBounds = Self.windows.map { max(scope.keys.lowerBound, SearchKey.first(at: newestSecond.addingTimeInterval(-$0))) }
        var tried: Int64?
        for lower in lowerBounds + [scope.keys.lowerBound] where lower != tried {
            tried = lower
            // `d.id + 0`: ordered without the key index, so that the planner combines the GIN
            // match with the key range instead of checking each row's words down the key index.
            let rows = try await database.raw("""
                SELECT d.id FROM search_documents d
                WHERE \(column) @@ to_tsquery('simple', \(bind: Self.expression(query)))
                AND d.id >= \(bind: lower) AND d.id < \(bind: scope.keys.upperBound) AND
                """ + Self.conditions(scope) + " ORDER BY d.id + 0 DESC LIMIT \(literal: limit)").all()
            if rows.count >= limit || lower == scope.keys.lowerBound {
                return try rows.map { try $0.decode(column: "id", as: Int64.self) }
            }
        }
        return []
    }

    /// The rows this scope may match besides its key range: the audience's parts and
    /// visibilities, and the filters.
    static func conditions(_ scope: SearchScope) -> SQLQueryString {
        var sql: SQLQueryString = "(" + scope.readableRows.map { row in
            "(d.part = \(bind: row.part.rawValue) AND d.visibility = \(bind: row.visibility.rawValue))" as SQLQueryString
        }.joined(separator: " OR ") + ")"
        if let edition = scope.filters.edition { sql = sql + " AND d.edition = \(bind: edition)" }
        if let kind = scope.filters.kind { sql = sql + " AND d.kind = \(bind: kind.rawValue)" }
        if let articleID = scope.filters.articleID { sql = sql + " AND d.article_id = \(bind: articleID)" }
        if let topicID = scope.filters.topicID {
            sql = sql + " AND d.article_id IN (SELECT article_id FROM \(ident: ArticleTopic.schema) WHERE topic_id = \(bind: topicID))"
        }
        if let authorID = scope.filters.authorID {
            sql = sql + " AND d.article_id IN (SELECT article_id FROM \(ident: ArticleAuthor.schema) WHERE author_id = \(bind: authorID))"
        }
        return sql
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
