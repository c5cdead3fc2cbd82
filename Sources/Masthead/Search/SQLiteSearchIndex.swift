import Foundation
import SQLKit

/// The index in SQLite's FTS5: two contentless tables whose row ids are the rows' `SearchKey`s,
/// `search_fts` with all of a row's words and `search_heads` with its title and names. Each
/// also holds the row's facets (edition, kind, part and visibility, topics, authors) as words
/// of their own, so that FTS5 applies the filters while it walks the matches newest first and
/// stops at the limit, without asking `search_documents` about each.
struct SQLiteSearchIndex: SearchIndex {
    func file(_ documents: [SearchDocument], on database: any SQLDatabase) async throws {
        try await remove(articleIDs: documents.map(\.articleID), on: database)
        // In key order: FTS5 writes what it holds as a new segment whenever a row id is not
        // larger than the last one, and a batch in id order made a segment of almost every row
        // (and a third of a rebuild's time went to merging them).
        let rows = try await SearchSQL.keyedRows(documents, on: database).sorted { $0.key < $1.key }
        for chunk in rows.chunked(into: SearchSQL.rowsPerInsert) {
            let documents = database.insert(into: "search_documents")
                .columns("id", "article_id", "part", "visibility", "edition", "kind", "published_at", "scoped")
            let words = database.insert(into: "search_fts").columns("rowid", "words", "facets")
            let heads = database.insert(into: "search_heads").columns("rowid", "heads", "facets")
            for (key, document, row) in chunk {
                let facets = Self.facets(document, part: row.part)
                let filed: [any Encodable & Sendable] = [
                    key, document.articleID, row.part.rawValue, document.visibility.rawValue,
                    document.edition, document.kind.rawValue, document.publishedAt.timeIntervalSince1970, 1,
                ]
                let text: [any Encodable & Sendable] = [key, document.heads + "\n" + row.body, facets]
                let head: [any Encodable & Sendable] = [key, document.heads, facets]
                documents.values(filed)
                words.values(text)
                heads.values(head)
            }
            try await documents.run()
            try await words.run()
            try await heads.run()
        }
    }

    func remove(articleIDs: [UUID], on database: any SQLDatabase) async throws {
        for chunk in articleIDs.chunked(into: 2000) {
            let keys: SQLQueryString = "SELECT id FROM search_documents WHERE article_id IN (\(binds: Array(chunk)))"
            try await database.raw("DELETE FROM search_fts WHERE rowid IN (" + keys + ")").run()
            try await database.raw("DELETE FROM search_heads WHERE rowid IN (" + keys + ")").run()
            try await database.raw("DELETE FROM search_documents WHERE article_id IN (\(binds: Array(chunk)))").run()
        }
    }

    func prune(on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM search_fts WHERE rowid IN (" + SearchSQL.unpublished + ")").run()
        try await database.raw("DELETE FROM search_heads WHERE rowid IN (" + SearchSQL.unpublished + ")").run()
        try await database.raw("DELETE FROM search_documents WHERE id IN (" + SearchSQL.unpublished + ")").run()
    }

    /// FTS5 merges its segments as it writes, and replacing rows one batch after another makes
    /// it merge the same rows over and over (four times slower at 30,000 articles): a rebuild
    /// turns merging off, and merges only when a level holds a thousand segments instead of
    /// sixteen (`crisismerge`, which still fires with merging off), then merges everything once
    /// at the end. It also holds a whole batch's words in memory before writing them (FTS5
    /// writes a segment each time it holds 1 MB, and a batch of long reports is several), so
    /// a batch is one segment. A rebuild that stops half way puts all this back as it goes (and
    /// the server does again when it starts, in case the rebuild was killed).
    func beginRebuild(on database: any SQLDatabase) async throws {
        try await configure(automerge: 0, crisismerge: 1000, hashsize: 32 << 20, on: database)
    }

    func endRebuild(completed: Bool, on database: any SQLDatabase) async throws {
        try await configure(automerge: 4, crisismerge: 16, hashsize: 1 << 20, on: database)
        guard completed else { return }
        for table in Self.tables { try await merge(table, on: database) }
        try await relistTerms(on: database)
    }

    /// Merges a table's segments into one, a step at a time (https://sqlite.org/fts5.html#the_merge_command):
    /// the first step, with a negative number of pages, makes every segment an input of one
    /// merge and writes about that many pages of it; the next, with a positive number, carry
    /// that merge on. Only the first is negative: a negative step begins the merge again
    /// whenever a publish has added a segment since the last, so under steady publishing the
    /// merge would never end. Each step commits on its own, so a publish waits for a step rather
    /// than for the whole merge (`optimize` held the write lock for 13 seconds at 100,000
    /// articles, past a writer's 10 seconds of patience). A step that changes fewer than two
    /// rows found nothing left to merge.
    private func merge(_ table: String, on database: any SQLDatabase) async throws {
        try await database.withSession { session in
            var pages = -Self.pagesPerMergeStep
            while true {
                try Task.checkCancellation()
                let before = try await Self.totalChanges(on: session)
                try await session.raw("INSERT INTO \(unsafeRaw: table)(\(unsafeRaw: table), rank) VALUES ('merge', \(literal: pages))").run()
                if try await Self.totalChanges(on: session) - before < 2 { return }
                pages = Self.pagesPerMergeStep
            }
        }
    }

    private static let pagesPerMergeStep = 2000

    private static func totalChanges(on session: any SQLDatabase) async throws -> Int {
        try await session.raw("SELECT total_changes() AS changes").first()?.decode(column: "changes", as: Int.self) ?? 0
    }

    /// The word list made again from what the index now holds (its words column, through
    /// `fts5vocab`): words of articles since unpublished or changed are gone. Between the two
    /// statements the list is empty, and every prefix is matched by FTS5 itself meanwhile.
    private func relistTerms(on database: any SQLDatabase) async throws {
        try await database.raw("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_fts_vocabulary USING fts5vocab(main, search_fts, col)").run()
        try await database.raw("DELETE FROM search_terms").run()
        try await database.raw("INSERT OR IGNORE INTO search_terms (term) SELECT term FROM temp.search_fts_vocabulary WHERE col = 'words'").run()
        try await database.raw("DROP TABLE temp.search_fts_vocabulary").run()
    }

    private func configure(automerge: Int, crisismerge: Int, hashsize: Int, on database: any SQLDatabase) async throws {
        for table in Self.tables {
            for (option, value) in [("automerge", automerge), ("crisismerge", crisismerge), ("hashsize", hashsize)] {
                try await database.raw("INSERT INTO \(unsafeRaw: table)(\(unsafeRaw: table), rank) VALUES (\(literal: option), \(literal: value))").run()
            }
        }
    }

    private static let tables = ["search_fts", "search_heads"]

    func prepared(_ query: SearchQuery, on database: any SQLDatabase) async throws -> SearchQuery {
        try await SearchTerms.prepared(query, longerThan: Self.longestIndexedPrefix, on: database)
    }

    func newest(_ query: SearchQuery, in field: SearchField, scope: SearchScope, limit: Int, on database: any SQLDatabase) async throws -> [Int64] {
        // The keys come back as one text: SQLite's driver hands each row to the event loop on
        // its own, and a thousand hand-overs cost more than the search.
        let keys = try await database.raw("SELECT group_concat(id) AS ids FROM (" + Self.matching(query, in: field, scope: scope) + """
             ORDER BY rowid DESC LIMIT \(literal: limit))
            """).first()?.decode(column: "ids", as: String?.self)
        return (keys?.split(separator: ",").compactMap { Int64($0) } ?? []).sorted(by: >)
    }

    func count(_ query: SearchQuery, scope: SearchScope, atMost: Int, on database: any SQLDatabase) async throws -> Int {
        try SearchSQL.total(try await database.raw(
            "SELECT count(*) AS total FROM (" + Self.matching(query, in: .words, scope: scope) + " LIMIT \(literal: atMost))"
        ).first())
    }

    /// The keys of the rows in scope whose `field` matches. Narrowed by the scope's one word
    /// while every row has it, and by the older words while any row lacks it.
    private static func matching(_ query: SearchQuery, in field: SearchField, scope: SearchScope) -> SQLQueryString {
        let table = field == .words ? "search_fts" : "search_heads"
        let words = (field == .words ? "words" : "heads") + " : (" + expression(query) + ") AND facets : ("
        return """
            SELECT rowid AS id FROM \(unsafeRaw: table) WHERE \(unsafeRaw: table) MATCH (CASE
                WHEN EXISTS (SELECT 1 FROM search_documents WHERE scoped = 0) THEN \(bind: words + facets(scope, scoped: false) + ")")
                ELSE \(bind: words + facets(scope, scoped: true) + ")") END)
            AND rowid >= \(bind: scope.keys.lowerBound) AND rowid < \(bind: scope.keys.upperBound)
            """
    }

    /// The prefixes FTS5 has an index for (`prefix='2 3'` in migration 019): it answers them fast.
    private static let longestIndexedPrefix = 3

    /// The FTS5 query: terms joined by `AND`, prefixes as `*`, names one typo away by `OR`,
    /// phrases as one quoted string.
    static func expression(_ query: SearchQuery) -> String {
        SearchSQL.expression(query, syntax: .init(quote: quoted, prefix: "*", or: " OR ", and: " AND ") { quoted($0.joined(separator: " ")) })
    }

    /// A row's facets as words: none of them can be typed into a search, which matches only
    /// the other column.
    static func facets(_ document: SearchDocument, part: SearchDocument.Part) -> String {
        SearchFacets.words(of: document, part: part).joined(separator: " ")
    }

    /// The facets a row in scope must have, as an FTS5 query of the facets column.
    static func facets(_ scope: SearchScope, scoped: Bool) -> String {
        SearchFacets.required(scope, scoped: scoped).map { $0.count == 1 ? $0[0] : "(" + $0.joined(separator: " OR ") + ")" }.joined(separator: " AND ")
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
