import Fluent
import Foundation
import SQLKit

/// Full-text search over published articles, kept by each database in its own way (SQLite's
/// FTS5, PostgreSQL's text search) behind this one interface. Every call takes the database
/// it runs on, so filing happens inside the caller's transaction.
///
/// Each row is filed under a `SearchKey` that orders it by publication time, so that both
/// databases can find the newest matches without ranking every match: a common word matches
/// half an archive of 100,000 articles, and a reader looks at the first twenty. What the index
/// answers is therefore the newest matches in the whole text and in the heads (title, topics
/// and authors), as many as the page needs, and how many match in all up to a bound;
/// `SearchRanking` orders them.
protocol SearchIndex: Sendable {
    /// Replaces whatever the index holds for these documents' articles.
    func file(_ documents: [SearchDocument], on database: any SQLDatabase) async throws
    func remove(articleIDs: [UUID], on database: any SQLDatabase) async throws
    /// Takes out every article that is no longer published: a rebuild's last step.
    func prune(on database: any SQLDatabase) async throws
    /// Before a rebuild replaces every row: what makes replacing them all cheaper.
    func beginRebuild(on database: any SQLDatabase) async throws
    /// After it, or after it failed (`completed` false): the index as it should be kept.
    func endRebuild(completed: Bool, on database: any SQLDatabase) async throws
    /// The query as this index asks it best, the same matches (SQLite widens long prefixes to
    /// the words they begin): worked out once per search, for both fields.
    func prepared(_ query: SearchQuery, on database: any SQLDatabase) async throws -> SearchQuery
    /// The keys of the newest rows in scope whose `field` matches, newest first, at most `limit`.
    func newest(_ query: SearchQuery, in field: SearchField, scope: SearchScope, limit: Int, on database: any SQLDatabase) async throws -> [Int64]
    /// How many rows in scope match anywhere, counted up to `atMost`.
    func count(_ query: SearchQuery, scope: SearchScope, atMost: Int, on database: any SQLDatabase) async throws -> Int
    /// The newest rows in scope matching anywhere, at most `limit`, and how many match, counted
    /// up to `atMost`.
    func newestCounted(_ query: SearchQuery, scope: SearchScope, limit: Int, countingTo atMost: Int, on database: any SQLDatabase) async throws -> (keys: [Int64], count: Int)
}

extension SearchIndex {
    /// The two questions asked apart, each on a connection of its own.
    func newestCounted(_ query: SearchQuery, scope: SearchScope, limit: Int, countingTo atMost: Int, on database: any SQLDatabase) async throws -> (keys: [Int64], count: Int) {
        async let keys = newest(query, in: .words, scope: scope, limit: limit, on: database)
        async let count = count(query, scope: scope, atMost: atMost, on: database)
        return (try await keys, try await count)
    }
}

/// Where the words of a query must all be found.
enum SearchField: Sendable {
    /// Anywhere: title, topics, authors, and the text of the row.
    case words
    /// In the title and the names of the article's topics and authors.
    case heads
}

/// The rows a search may match: what the audience may read, under the filters, published in
/// the key range (which also keeps out what is scheduled but not yet out).
struct SearchScope: Sendable {
    let filters: SearchFilters
    let audience: SearchAudience
    let keys: Range<Int64>

    init(filters: SearchFilters, audience: SearchAudience, now: Date) {
        let latest = min(now.addingTimeInterval(1), filters.until ?? now.addingTimeInterval(1))
        let first = SearchKey.first(at: filters.from ?? .distantPast)
        self.init(filters: filters, audience: audience, keys: first..<max(first, SearchKey.first(at: latest)))
    }

    private init(filters: SearchFilters, audience: SearchAudience, keys: Range<Int64>) {
        self.filters = filters
        self.audience = audience
        self.keys = keys
    }

    /// The rows of this scope with keys below `key`.
    func older(than key: Int64) -> SearchScope {
        SearchScope(filters: filters, audience: audience, keys: keys.lowerBound..<max(keys.lowerBound, min(keys.upperBound, key)))
    }

    /// The row kinds (part and visibility together) this audience may match: the whole text
    /// when it may read the article, else the part anyone may read.
    var readableRows: [(part: SearchDocument.Part, visibility: Visibility)] {
        let readable = audience.readable
        return Visibility.allCases.filter { filters.visibility == nil || filters.visibility == $0 }.sorted { $0.rawValue < $1.rawValue }.map { visibility in
            (part: readable.contains(visibility) || visibility == .public ? SearchDocument.Part.full : .preview, visibility: visibility)
        }
    }
}

/// A row's place in the index: its publication second in the high bits, then bits of its
/// article's id and its part, so that newer rows have larger keys and an article's two rows
/// sit side by side. Two articles published in the same second share the high bits and
/// differ, but for one chance in a million, in the low ones; `SearchKey.free` settles that.
enum SearchKey {
    static let lowBits = 21

    static func of(publishedAt: Date, articleID: UUID, part: SearchDocument.Part) -> Int64 {
        let bytes = articleID.uuid
        let articleBits = (Int64(bytes.13 & 0x0F) << 16 | Int64(bytes.14) << 8 | Int64(bytes.15)) << 1
        return first(at: publishedAt) | articleBits | (part == .preview ? 1 : 0)
    }

    /// The smallest key of anything published at `date` or later.
    static func first(at date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let bounded = Swift.min(Swift.max(seconds, -Double(1 << 40)), Double(1 << 40))
        return Int64(bounded) << lowBits
    }

    static func publishedAt(_ key: Int64) -> Date {
        Date(timeIntervalSince1970: Double(key >> lowBits))
    }

    /// Keys for `wanted` that no row in `taken` (nor another wanted one) holds: a collision
    /// moves on by two, keeping the part bit, and stays in its second for all practical purposes.
    static func free(_ wanted: [Int64], taken: Set<Int64>) -> [Int64] {
        var used = taken
        return wanted.map { key in
            var candidate = key
            while used.contains(candidate) { candidate += 2 }
            used.insert(candidate)
            return candidate
        }
    }
}

/// What a search found: one page of hits, and how many there are, or that there are more
/// than `total` when the count stopped at its bound; and the query as the index asked it,
/// which is what its words were matched by (for marking them).
struct SearchMatches: Sendable {
    let query: SearchQuery
    let total: Int
    let more: Bool
    let hits: [SearchHit]

    static func none(_ query: SearchQuery) -> SearchMatches { SearchMatches(query: query, total: 0, more: false, hits: []) }
}

/// Orders what the index found. A match in the heads (the words all in the title, or among
/// the names of the article's topics and authors) ranks above one in the text alone; within
/// each, relevance fades with age, so today's story comes before last month's and last month's
/// before the archive's.
///
/// Since the score only ever falls with age in each field, the first `n` results are among the
/// newest `n` matches of each field (any match newer than a result, in its field, scores
/// higher), so the index is asked for no more than the page reaches, and for a count.
///
/// The count goes a little past the page, to the next multiple of `countStep` (there are
/// "more than 200" on the first ten pages, 400 from the eleventh): counting every match of a
/// common word, or checking every row that may hold a phrase, costs more than the rest of
/// the search.
enum SearchRanking {
    /// Matches counted, and results paged through, at most.
    static let candidates = 1000
    static let countStep = 200
    static let headsBoost = 4.0

    static func search(
        _ query: SearchQuery, filters: SearchFilters, audience: SearchAudience, now: Date,
        offset: Int, limit: Int, candidates: Int = SearchRanking.candidates, index: any SearchIndex, on database: any SQLDatabase
    ) async throws -> SearchMatches {
        guard !query.isEmpty else { return .none(query) }
        let scope = SearchScope(filters: filters, audience: audience, now: now)
        guard !scope.keys.isEmpty else { return .none(query) }
        let asked = try await index.prepared(query, on: database)
        let reach = min(offset + limit, candidates)
        let bound = min(candidates, ((offset + limit) / countStep + 1) * countStep)
        async let newestText = index.newestCounted(asked, scope: scope, limit: reach, countingTo: bound + 1, on: database)
        async let newestHeads = index.newest(asked, in: .heads, scope: scope, limit: reach, on: database)
        let (text, matching) = try await newestText
        let heads = Set(try await newestHeads)
        let ranked = Set(text).union(heads).map { key in
            (key: key, score: recency(SearchKey.publishedAt(key), now: now) * (heads.contains(key) ? headsBoost : 1))
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.key > $1.key }
        let page = ranked.dropFirst(offset).prefix(max(0, reach - offset)).map(\.key)
        // At least what was ranked: an article published between the two questions counts.
        let counted = max(matching, ranked.count)
        return SearchMatches(query: asked, total: min(counted, bound), more: counted > bound, hits: try await hits(page, on: database))
    }

    /// Twice as much for today's story, half again for last month's, fading to nothing for the
    /// archive, so that news outranks old background.
    static func recency(_ publishedAt: Date, now: Date) -> Double {
        1 + 30 / (30 + max(0, now.timeIntervalSince(publishedAt)) / 86_400)
    }

    /// The articles behind the page's keys, in the page's order.
    private static func hits(_ keys: [Int64], on database: any SQLDatabase) async throws -> [SearchHit] {
        guard !keys.isEmpty else { return [] }
        let rows = try await database.raw("SELECT id, article_id, part FROM search_documents WHERE id IN (\(binds: keys))").all()
        var byKey: [Int64: SearchHit] = [:]
        for row in rows {
            byKey[try row.decode(column: "id", as: Int64.self)] = SearchHit(
                articleID: try row.decode(column: "article_id", as: UUID.self),
                part: SearchDocument.Part(rawValue: try row.decode(column: "part", as: String.self)) ?? .preview
            )
        }
        return keys.compactMap { byKey[$0] }
    }
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

    /// Rows to insert at once: a rebuild's batch in one statement, since FTS5 writes a segment
    /// per statement, and well under the databases' limits of bound values per statement.
    static let rowsPerInsert = 2500

    /// The keys already held among those wanted, so that `SearchKey.free` can step around them.
    static func taken(_ keys: [Int64], on database: any SQLDatabase) async throws -> Set<Int64> {
        var taken: Set<Int64> = []
        for chunk in keys.chunked(into: 2000) {
            let rows = try await database.raw("SELECT id FROM search_documents WHERE id IN (\(binds: Array(chunk)))").all()
            for row in rows { taken.insert(try row.decode(column: "id", as: Int64.self)) }
        }
        return taken
    }

    /// The rows of the documents with their keys, ready to insert: each document's rows
    /// (the whole text, and for a gated article the preview besides).
    static func keyedRows(_ documents: [SearchDocument], on database: any SQLDatabase) async throws -> [(key: Int64, document: SearchDocument, row: SearchDocument.Row)] {
        let rows = documents.flatMap { document in document.rows.map { (document: document, row: $0) } }
        let wanted = rows.map { SearchKey.of(publishedAt: $0.document.publishedAt, articleID: $0.document.articleID, part: $0.row.part) }
        var held = try await taken(wanted, on: database)
        var keys = SearchKey.free(wanted, taken: held)
        // A key moved past a collision may be held too: look again until none is.
        while true {
            let clashes = try await taken(zip(keys, wanted).filter { $0 != $1 }.map(\.0), on: database)
            guard !clashes.isSubset(of: held) else { break }
            held.formUnion(clashes)
            keys = SearchKey.free(wanted, taken: held)
        }
        return zip(keys, rows).map { (key: $0, document: $1.document, row: $1.row) }
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

    static func total(_ row: (any SQLRow)?) throws -> Int {
        try row?.decode(column: "total", as: Int.self) ?? 0
    }
}

extension Array {
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
