import Fluent
import Foundation
import SQLKit

/// Full-text search over published articles, kept by each database in its own way (SQLite's
/// FTS5, PostgreSQL's text search) behind this one interface. Every call takes the database
/// it runs on, so filing happens inside the caller's transaction.
protocol SearchIndex: Sendable {
    /// Replaces whatever the index holds for the document's article.
    func file(_ document: SearchDocument, on database: any SQLDatabase) async throws
    func remove(articleID: UUID, on database: any SQLDatabase) async throws
    /// Takes out every article that is no longer published: a rebuild's last step.
    func prune(on database: any SQLDatabase) async throws
    /// The matching articles the audience may find, best first, and how many match in all.
    func search(
        _ query: SearchQuery, filters: SearchFilters, audience: SearchAudience, now: Date,
        offset: Int, limit: Int, on database: any SQLDatabase
    ) async throws -> (total: Int, hits: [SearchHit])
}

enum SearchIndexes {
    static func forDatabase(_ database: any Database) -> any SearchIndex {
        (database as! any SQLDatabase).dialect.name == "postgresql" ? PostgresSearchIndex() : SQLiteSearchIndex()
    }
}

/// The parts of a search both databases write alike.
enum SearchSQL {
    /// Documents whose article is no longer published.
    static let unpublished: SQLQueryString = """
        SELECT d.id FROM search_documents d WHERE NOT EXISTS (
            SELECT 1 FROM articles a WHERE a.id = d.article_id AND a.status = 'published')
        """

    /// Relevance is multiplied by this: twice as much for today's story, half again for last
    /// month's, fading to nothing for the archive, so that news outranks old background.
    static func recencyBoost(now: Date) -> SQLQueryString {
        "(1.0 + 30.0 / (30.0 + (\(bind: now.timeIntervalSince1970) - d.published_at) / 86400.0))"
    }

    /// The rows this audience may match, under the filters: for each article, the whole text
    /// when the audience may read it, else the part anyone may read.
    static func conditions(_ filters: SearchFilters, audience: SearchAudience, now: Date) -> SQLQueryString {
        let readable = audience.readable.map(\.rawValue).sorted()
        let unreadable = Visibility.allCases.map(\.rawValue).filter { !readable.contains($0) }.sorted()
        var sql: SQLQueryString = "d.published_at <= \(bind: now.timeIntervalSince1970)"
        if unreadable.isEmpty {
            sql = sql + " AND d.part = \(bind: SearchDocument.Part.full.rawValue)"
        } else {
            sql = sql + """
                 AND ((d.part = \(bind: SearchDocument.Part.full.rawValue) AND d.visibility IN (\(binds: readable)))
                   OR (d.part = \(bind: SearchDocument.Part.preview.rawValue) AND d.visibility IN (\(binds: unreadable))))
                """
        }
        if let edition = filters.edition { sql = sql + " AND d.edition = \(bind: edition)" }
        if let kind = filters.kind { sql = sql + " AND d.kind = \(bind: kind.rawValue)" }
        if let from = filters.from { sql = sql + " AND d.published_at >= \(bind: from.timeIntervalSince1970)" }
        if let until = filters.until { sql = sql + " AND d.published_at < \(bind: until.timeIntervalSince1970)" }
        if let topicID = filters.topicID {
            sql = sql + " AND d.article_id IN (SELECT article_id FROM \(ident: ArticleTopic.schema) WHERE topic_id = \(bind: topicID))"
        }
        if let authorID = filters.authorID {
            sql = sql + " AND d.article_id IN (SELECT article_id FROM \(ident: ArticleAuthor.schema) WHERE author_id = \(bind: authorID))"
        }
        return sql
    }

    /// One page of hits, best first, and how many there are: `matching` is the FROM and WHERE
    /// of a database's full-text match, `bestFirst` its ranking.
    static func page(
        matching: SQLQueryString, bestFirst: SQLQueryString, _ filters: SearchFilters, audience: SearchAudience, now: Date,
        offset: Int, limit: Int, on database: any SQLDatabase
    ) async throws -> (total: Int, hits: [SearchHit]) {
        let from = matching + " AND " + conditions(filters, audience: audience, now: now)
        let total = try await database.raw("SELECT count(*) AS total " + from).first()
        let rows = try await database.raw(
            "SELECT d.article_id AS article_id, d.part AS part " + from
                + " ORDER BY " + bestFirst + ", d.published_at DESC LIMIT \(literal: limit) OFFSET \(literal: offset)"
        ).all()
        return (try Self.total(total), try hits(rows))
    }

    /// How a database writes a full-text query.
    struct QuerySyntax {
        let quote: (String) -> String
        let prefix: String
        let or: String
        let and: String
        let phrase: ([String]) -> String
    }

    /// A query in a database's syntax: every term must match; a word still being typed matches
    /// as a prefix, a misspelt name also as the names one typo away. Tokens hold letters and
    /// digits only, and are quoted besides, so nothing a reader types is read as syntax.
    static func expression(_ query: SearchQuery, syntax: QuerySyntax) -> String {
        query.terms.map { term in
            switch term {
            case .word(let token, let prefix, let alternatives):
                let word = syntax.quote(token) + (prefix ? syntax.prefix : "")
                return alternatives.isEmpty ? word : "(" + ([word] + alternatives.map(syntax.quote)).joined(separator: syntax.or) + ")"
            case .phrase(let tokens):
                return syntax.phrase(tokens)
            }
        }.joined(separator: syntax.and)
    }

    static func hits(_ rows: [any SQLRow]) throws -> [SearchHit] {
        try rows.map { row in
            SearchHit(
                articleID: try row.decode(column: "article_id", as: UUID.self),
                part: SearchDocument.Part(rawValue: try row.decode(column: "part", as: String.self)) ?? .preview
            )
        }
    }

    static func total(_ row: (any SQLRow)?) throws -> Int {
        try row?.decode(column: "total", as: Int.self) ?? 0
    }
}
