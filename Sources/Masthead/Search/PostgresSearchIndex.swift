import Foundation
import SQLKit

/// The index in PostgreSQL: each row carries two `tsvector`s under the `simple` configuration
/// (the words are already normalised, and no one language's stemmer suits an archive in four),
/// `words` with all of it and `heads` with its title and names, each behind a GIN index. Both
/// also hold the row's facets and the month and year it was published in, as lexemes that
/// begin with `_`, which no typed word can (words hold letters and digits only).
///
/// A GIN index answers which rows match but not in what order, and fetching every row that
/// holds a common word, to sort them, costs far more than the search. So the newest matches are
/// looked for in windows, the last month first, then each older one ending where the last
/// began, each named in the query by its months (or years): a GIN index finds the rows holding a
/// common word and a rare one by stepping through the rare one's rows, and only true matches are
/// read from the table, each once.
struct PostgresSearchIndex: SearchIndex {
    func file(_ documents: [SearchDocument], on database: any SQLDatabase) async throws {
        try await remove(articleIDs: documents.map(\.articleID), on: database)
        // In key order: a rebuild files the oldest articles first, and so writes the table in
        // the order of its keys (`SearchIndexing.publishedInFilingOrder`).
        let rows = try await SearchSQL.keyedRows(documents, on: database).sorted { $0.key < $1.key }
        for chunk in rows.chunked(into: SearchSQL.rowsPerInsert) {
            let insert = database.insert(into: "search_documents")
                .columns("id", "article_id", "part", "visibility", "edition", "kind", "published_at", "words", "heads", "scoped")
            for (key, document, row) in chunk {
                let facets = (SearchFacets.words(of: document, part: row.part) + SearchFacets.periods(of: document.publishedAt))
                    .map { Self.facetMark + $0 }.joined(separator: " ")
                let values: [any SQLExpression] = [
                    SQLBind(key), SQLBind(document.articleID), SQLBind(row.part.rawValue), SQLBind(document.visibility.rawValue),
                    SQLBind(document.edition), SQLBind(document.kind.rawValue), SQLBind(document.publishedAt.timeIntervalSince1970),
                    "to_tsvector('simple', \(bind: document.heads + "\n" + row.body)) || array_to_tsvector(string_to_array(\(bind: facets), ' '))" as SQLQueryString,
                    "to_tsvector('simple', \(bind: document.heads)) || array_to_tsvector(string_to_array(\(bind: facets), ' '))" as SQLQueryString,
                    SQLLiteral.numeric("1"),
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

    /// No vacuum runs while a rebuild files: one would record the space of the rows replaced
    /// so far, scattered through the table, and the rows filed next would fill it out of order.
    /// So the rebuild's rows go after one another, in the order of their keys.
    func beginRebuild(on database: any SQLDatabase) async throws {
        try await database.raw("ALTER TABLE search_documents SET (autovacuum_enabled = off)").run()
    }

    /// A completed rebuild lists again the words the index now holds (`listWordsAgain`), builds
    /// its GIN indexes afresh (`rebuildGINIndexes`) and tells the planner what the rows now
    /// hold: until autovacuum comes round, its statistics describe the rows the rebuild
    /// replaced, and filtered searches planned on them took 3 ms more at p95 on a
    /// 100,000-article archive. However the rebuild ended, vacuums are then let run again
    /// (after the index builds, so the first vacuum does not work through the old indexes);
    /// the first frees the space of the rows replaced.
    func endRebuild(completed: Bool, on database: any SQLDatabase) async throws {
        do {
            if completed {
                try await Self.listWordsAgain(on: database)
                try await Self.rebuildGINIndexes(on: database)
                try await database.raw("ANALYZE search_documents").run()
            }
        } catch {
            try? await Self.letVacuumsRun(on: database)
            throw error
        }
        try await Self.letVacuumsRun(on: database)
    }

    /// Only when they were held off: every start asks, and an `ALTER TABLE` waits for a vacuum
    /// under way (at most 5 s here, rather than hold up a start).
    static func letVacuumsRun(on database: any SQLDatabase) async throws {
        let options = try await database.raw("""
            SELECT array_to_string(reloptions, ',') AS options FROM pg_class WHERE oid = 'search_documents'::regclass
            """).first()?.decode(column: "options", as: String?.self) ?? ""
        guard options.contains("autovacuum_enabled=off") else { return }
        try await database.withSession { session in
            try await session.raw("BEGIN").run()
            do {
                try await session.raw("SET LOCAL lock_timeout = '5s'").run()
                try await session.raw("ALTER TABLE search_documents RESET (autovacuum_enabled)").run()
                try await session.raw("COMMIT").run()
            } catch {
                try? await session.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// The words the index holds, listed again: words of articles since unpublished or changed
    /// are gone. One statement, so the list is never seen empty, after filings stop for it: one
    /// committed while the index is read could otherwise have its word, listed already, taken out.
    private static func listWordsAgain(on database: any SQLDatabase) async throws {
        try await database.withSession { session in
            try await session.raw("BEGIN").run()
            do {
                try await session.raw("LOCK TABLE search_terms IN SHARE ROW EXCLUSIVE MODE").run()
                try await session.raw("""
                    WITH filed AS (SELECT word FROM ts_stat('SELECT words FROM search_documents') WHERE left(word, 1) <> \(bind: Self.facetMark)),
                    gone AS (DELETE FROM search_terms WHERE term NOT IN (SELECT word FROM filed))
                    INSERT INTO search_terms (term) SELECT word FROM filed ON CONFLICT (term) DO NOTHING
                    """).run()
                try await session.raw("COMMIT").run()
            } catch {
                try? await session.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// A GIN index kept up row by row through a rebuild that replaced every row ends up twice
    /// the size it need be, its lists split over half-empty pages: at 100,000 articles, 310 MB
    /// against 163 MB built afresh, and a month's window of a common word took 4.1 ms to scan
    /// against 0.6 ms. So each is built again, concurrently, which lets searches and filings go
    /// on (about 23 s for both at that size). A build that fails or is stopped leaves an
    /// invalid copy (`…_ccnew`, or the old one as `…_ccold`), which every filing would still
    /// keep up: it is dropped, before each build and after one that failed. No other index is
    /// touched, valid or not.
    private static func rebuildGINIndexes(on database: any SQLDatabase) async throws {
        for name in ["search_documents_words", "search_documents_heads"] {
            try await dropLeftovers(of: name, on: database)
            do {
                try await database.raw("REINDEX INDEX CONCURRENTLY \(ident: name)").run()
            } catch {
                try? await dropLeftovers(of: name, on: database)
                throw error
            }
        }
    }

    private static func dropLeftovers(of index: String, on database: any SQLDatabase) async throws {
        let leftovers = try await database.raw("""
            SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'search_documents'::regclass AND NOT i.indisvalid AND c.relname ~ \(bind: "^" + index + "_cc(new|old)[0-9]*$")
            """).all().map { try $0.decode(column: "relname", as: String.self) }
        for name in leftovers {
            try await database.raw("DROP INDEX CONCURRENTLY IF EXISTS \(ident: name)").run()
        }
    }

    /// Every prefix as the words it begins, when there are few: GIN gathers every row holding
    /// any word a prefix (`:*`) begins before it narrows by anything else.
    func prepared(_ query: SearchQuery, on database: any SQLDatabase) async throws -> SearchQuery {
        try await SearchTerms.prepared(query, longerThan: 0, on: database)
    }

    func newest(_ query: SearchQuery, in field: SearchField, scope: SearchScope, limit: Int, on database: any SQLDatabase) async throws -> [Int64] {
        var keys: [Int64] = []
        try await Self.lookBack(over: scope, until: limit) { window, wanted in
            let found = try await database.raw(Self.matching(query, in: field, scope: scope, keys: window) + " ORDER BY id + 0 DESC LIMIT \(literal: wanted)")
                .all().map { try $0.decode(column: "id", as: Int64.self) }
            keys += found
            return found.count
        }
        return keys
    }

    func count(_ query: SearchQuery, scope: SearchScope, atMost: Int, on database: any SQLDatabase) async throws -> Int {
        try await count(query, scope: scope, atMost: atMost, firstReach: Self.firstWindow, on: database)
    }

    /// The newest matches' windows are read whole, to order them, so each also counts its
    /// matches; the count reads on from where they stopped only when they held fewer than
    /// `atMost`, reaching back at first as far as their matches say it takes. Asked apart, the
    /// count read their windows again, which for a phrase, whose rows are checked one by one,
    /// was a quarter of a search's checks.
    func newestCounted(_ query: SearchQuery, scope: SearchScope, limit: Int, countingTo atMost: Int, on database: any SQLDatabase) async throws -> (keys: [Int64], count: Int) {
        var keys: [Int64] = [], counted = 0, reached = scope.keys.upperBound
        try await Self.lookBack(over: scope, until: limit) { window, wanted in
            let rows = try await database.raw(
                "SELECT id, count(*) OVER () AS matches FROM (" + Self.matching(query, in: .words, scope: scope, keys: window) + ") counted"
                    + " ORDER BY id + 0 DESC LIMIT \(literal: wanted)"
            ).all()
            keys += try rows.map { try $0.decode(column: "id", as: Int64.self) }
            counted += try rows.first?.decode(column: "matches", as: Int.self) ?? 0
            reached = window.lowerBound
            return rows.count
        }
        guard counted < atMost, reached > scope.keys.lowerBound else { return (keys, min(counted, atMost)) }
        let span = SearchKey.publishedAt(scope.keys.upperBound - 1).timeIntervalSince(SearchKey.publishedAt(reached))
        let reach = max(Self.firstWindow, 1.5 * span * Double(atMost - counted) / Double(max(1, counted)))
        return (keys, counted + (try await count(query, scope: scope.older(than: reached), atMost: atMost - counted, firstReach: reach, on: database)))
    }

    private func count(_ query: SearchQuery, scope: SearchScope, atMost: Int, firstReach: TimeInterval, on database: any SQLDatabase) async throws -> Int {
        try await Self.lookBack(over: scope, until: atMost, firstReach: firstReach) { window, wanted in
            try SearchSQL.total(try await database.raw(
                "SELECT count(*) AS total FROM (" + Self.matching(query, in: .words, scope: scope, keys: window) + " LIMIT \(literal: wanted)) counted"
            ).first())
        }
    }

    /// Asks `find` for up to so many matches in windows reaching ever further back, each ending
    /// where the last began, until `wanted` are found or the scope's start is reached; how many
    /// were found. A window costs about what the rows published in it do, so the first is the
    /// last month (unless told otherwise), and the look reaches back each time as far as the matches found so far say it
    /// takes to find enough (with half as much again to spare), at least three times as far.
    /// A look that would reach back a decade or more goes to the scope's start instead: a span
    /// that long is named by no months, so a further window would only cost another query.
    @discardableResult
    static func lookBack(
        over scope: SearchScope, until wanted: Int, firstReach: TimeInterval = firstWindow, _ find: (Range<Int64>, Int) async throws -> Int
    ) async throws -> Int {
        let newestSecond = SearchKey.publishedAt(scope.keys.upperBound - 1)
        var reach = firstReach, upper = scope.keys.upperBound, found = 0
        while found < wanted, upper > scope.keys.lowerBound {
            let start = reach < lastWindow ? SearchKey.first(at: newestSecond.addingTimeInterval(-reach)) : scope.keys.lowerBound
            let lower = max(scope.keys.lowerBound, min(upper, start))
            found += try await find(lower..<upper, wanted - found)
            upper = lower
            reach *= found == 0 ? 12 : min(12, max(3, 1.5 * Double(wanted) / Double(found)))
        }
        return found
    }

    static let firstWindow: TimeInterval = 30 * 86_400
    static let lastWindow: TimeInterval = 3_650 * 86_400

    /// The keys of the rows in scope whose `field` matches, among `keys` (a window). A row
    /// with its facets is narrowed by them, with the window's months besides (a key's range
    /// then only trims what the months hold beyond it, without reading the key index); a row
    /// filed without them (by an older instance, until the search-rebuild job files it again)
    /// by its columns. A typed query PostgreSQL reads as no word at all (`numnode` 0) would
    /// leave the facets to match alone, which is every row in scope: it matches nothing.
    private static func matching(_ query: SearchQuery, in field: SearchField, scope: SearchScope, keys: Range<Int64>) -> SQLQueryString {
        let column: SQLQueryString = field == .words ? "d.words" : "d.heads"
        var required = SearchFacets.required(scope, scoped: true)
        if let periods = SearchFacets.periods(from: SearchKey.publishedAt(keys.lowerBound), through: SearchKey.publishedAt(keys.upperBound - 1)) {
            required.append(periods)
        }
        let facets = facetQuery(required)
        let typed = expression(query)
        return """
            SELECT id FROM (
                SELECT d.id FROM search_documents d
                WHERE \(column) @@ (to_tsquery('simple', \(bind: typed)) && \(bind: facets)::tsquery)
                AND numnode(to_tsquery('simple', \(bind: typed))) > 0 AND d.scoped <> 0
                AND d.id + 0 >= \(bind: keys.lowerBound) AND d.id + 0 < \(bind: keys.upperBound)
                UNION ALL
                SELECT d.id FROM search_documents d
                WHERE d.scoped = 0 AND \(column) @@ to_tsquery('simple', \(bind: typed))
                AND d.id >= \(bind: keys.lowerBound) AND d.id < \(bind: keys.upperBound) AND
            """ + conditions(scope) + ") matched"
    }

    /// Facets a row must have, one of each group, as a `tsquery`.
    static func facetQuery(_ required: [[String]]) -> String {
        required.map { group in "(" + group.map { quoted(facetMark + $0) }.joined(separator: " | ") + ")" }.joined(separator: " & ")
    }

    /// What begins a facet's lexeme: not a letter or a digit, so no typed word is one.
    private static let facetMark = "_"

    /// The rows this scope may match besides its key range, by their columns: the audience's
    /// parts and visibilities, and the filters.
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

    /// Quoted for a `tsquery`. Tokens and facets hold letters and digits only, so the escaping
    /// (through Foundation, a tenth of a millisecond a search) is left to anything else.
    private static func quoted(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") }) else { return "'" + token + "'" }
        return "'" + token.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\\", with: "\\\\") + "'"
    }
}
