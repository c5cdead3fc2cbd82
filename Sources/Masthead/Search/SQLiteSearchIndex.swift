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
        try await listTerms(of: documents, on: database)
    }

    /// Adds the documents' words to `search_terms`. Words are taken out only by a rebuild: one
    /// no article holds any more only widens a prefix by a word that matches nothing.
    private func listTerms(of documents: [SearchDocument], on database: any SQLDatabase) async throws {
        var terms = Set<Substring>()
        for document in documents {
            for text in [document.title, document.names, document.preview, document.rest] {
                for word in text.utf8.split(separator: UInt8(ascii: " ")) { terms.insert(Substring(word)) }
            }
        }
        for chunk in Array(terms).chunked(into: SearchSQL.rowsPerInsert) {
            let insert = database.insert(into: "search_terms").columns("term").ignoringConflicts(with: "term")
            for term in chunk { insert.values([String(term)]) }
            try await insert.run()
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
        for table in Self.tables { try await database.raw("INSERT INTO \(unsafeRaw: table)(\(unsafeRaw: table)) VALUES ('optimize')").run() }
        try await relistTerms(on: database)
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
        query.replacingPrefixes(with: try await Self.words(beginning: query.prefixes, on: database))
    }

    func newest(_ query: SearchQuery, in field: SearchField, scope: SearchScope, limit: Int, on database: any SQLDatabase) async throws -> [Int64] {
        let table = field == .words ? "search_fts" : "search_heads"
        let words = (field == .words ? "words" : "heads") + " : (" + Self.expression(query) + ") AND facets : ("
        // The scope's one word while every row has it; the older words while any row lacks it.
        // The keys come back as one text: SQLite's driver hands each row to the event loop on
        // its own, and a thousand hand-overs cost more than the search.
        let keys = try await database.raw("""
            SELECT group_concat(id) AS ids FROM (
                SELECT rowid AS id FROM \(unsafeRaw: table) WHERE \(unsafeRaw: table) MATCH (CASE
                    WHEN EXISTS (SELECT 1 FROM search_documents WHERE scoped = 0) THEN \(bind: words + Self.facets(scope) + ")")
                    ELSE \(bind: words + Self.scopeFacets(scope) + ")") END)
                AND rowid >= \(bind: scope.keys.lowerBound) AND rowid < \(bind: scope.keys.upperBound)
                ORDER BY rowid DESC LIMIT \(literal: limit))
            """).first()?.decode(column: "ids", as: String?.self)
        return (keys?.split(separator: ",").compactMap { Int64($0) } ?? []).sorted(by: >)
    }

    /// The prefixes FTS5 has an index for (`prefix='2 3'` in migration 019): it answers them fast.
    private static let longestIndexedPrefix = 3
    /// More words than this to a prefix and FTS5's own prefix matching is left to find them.
    private static let mostWordsPerPrefix = 64

    /// The listed words each longer prefix begins. A prefix with none listed, or too many, is
    /// left out and FTS5 matches it itself. Every filing lists its words in the same
    /// transaction, so the list holds every word the index does.
    private static func words(beginning prefixes: [String], on database: any SQLDatabase) async throws -> [String: [String]] {
        var words: [String: [String]] = [:]
        for prefix in Set(prefixes) where prefix.unicodeScalars.count > longestIndexedPrefix {
            // U+10FFFF is never part of a word, so it sorts after every word with the prefix.
            // As one text, as `newest` reads its keys: words hold no spaces.
            let listed = try await database.raw("""
                SELECT group_concat(term, ' ') AS terms FROM (
                    SELECT term FROM search_terms WHERE term >= \(bind: prefix) AND term < \(bind: prefix + "\u{10FFFF}")
                    ORDER BY term LIMIT \(literal: mostWordsPerPrefix + 1))
                """).first()?.decode(column: "terms", as: String?.self)
            let found = listed?.split(separator: " ").map(String.init) ?? []
            guard found.count <= mostWordsPerPrefix else { continue }
            words[prefix] = found
        }
        return words
    }

    /// The FTS5 query: terms joined by `AND`, prefixes as `*`, names one typo away by `OR`,
    /// phrases as one quoted string.
    static func expression(_ query: SearchQuery) -> String {
        SearchSQL.expression(query, syntax: .init(quote: quoted, prefix: "*", or: " OR ", and: " AND ") { quoted($0.joined(separator: " ")) })
    }

    /// A row's facets as words: none of them can be typed into a search, which matches only
    /// the other column.
    static func facets(_ document: SearchDocument, part: SearchDocument.Part) -> String {
        ([facet("edition", document.edition), facet("kind", document.kind.rawValue), facet(part.rawValue, document.visibility.rawValue)]
            + document.topicIDs.map { facet("topic", $0.uuidString) }
            + document.authorIDs.map { facet("author", $0.uuidString) } + [facet("article", document.articleID.uuidString)]
            + scopes(of: document, part: part)).joined(separator: " ")
    }

    /// The facets a row in scope must have, in the older words every row has: the row kinds
    /// the audience may match, the edition and the kind are each a word most rows have, and
    /// FTS5 steps through all three lists.
    static func facets(_ scope: SearchScope) -> String {
        var required = ["(" + scope.readableRows.map { facet($0.part.rawValue, $0.visibility.rawValue) }.joined(separator: " OR ") + ")"]
        if let edition = scope.filters.edition { required.append(facet("edition", edition)) }
        if let kind = scope.filters.kind { required.append(facet("kind", kind.rawValue)) }
        return (required + sparseFacets(scope)).joined(separator: " AND ")
    }

    /// The same facets with the audience, edition and kind as the one word that names them together.
    static func scopeFacets(_ scope: SearchScope) -> String {
        var required = [scopeWord(readable: scope.audience.readable, edition: scope.filters.edition, kind: scope.filters.kind)]
        if scope.filters.visibility != nil {
            required.append("(" + scope.readableRows.map { facet($0.part.rawValue, $0.visibility.rawValue) }.joined(separator: " OR ") + ")")
        }
        return (required + sparseFacets(scope)).joined(separator: " AND ")
    }

    private static func sparseFacets(_ scope: SearchScope) -> [String] {
        var required: [String] = []
        if let topicID = scope.filters.topicID { required.append(facet("topic", topicID.uuidString)) }
        if let authorID = scope.filters.authorID { required.append(facet("author", authorID.uuidString)) }
        if let articleID = scope.filters.articleID { required.append(facet("article", articleID.uuidString)) }
        return required
    }

    /// What each audience may read outright: readers signed out, free and paying, and staff.
    private static let audiences: [Set<Visibility>] = [SearchAudience.reader(.anonymous), .reader(.freeMember), .reader(.paidMember), .staff]
        .map(\.readable).reduce(into: []) { sets, readable in if !sets.contains(readable) { sets.append(readable) } }

    /// A row's scope words: for each audience that matches this row (the whole text when it
    /// may read the visibility, else the preview), one word for each of its edition or any,
    /// and its kind or any.
    private static func scopes(of document: SearchDocument, part: SearchDocument.Part) -> [String] {
        audiences.filter { readable in readable.contains(document.visibility) == (part == .full) }.flatMap { readable in
            [document.edition, nil].flatMap { edition in
                [document.kind, nil].map { kind in scopeWord(readable: readable, edition: edition, kind: kind) }
            }
        }
    }

    /// `scope`, the visibilities read, `x`, the edition or `0` for any, `x`, the kind or `0`:
    /// no visibility or kind holds an x, and no edition code or kind is a digit, so no two
    /// scopes share a word.
    private static func scopeWord(readable: Set<Visibility>, edition: String?, kind: ArticleKind?) -> String {
        facet("scope", readable.map(\.rawValue).sorted().joined() + "x" + (edition ?? "0") + "x" + (kind?.rawValue ?? "0"))
    }

    /// One word: the name and the value's letters and digits, lowercased (as FTS5 folds them).
    private static func facet(_ name: String, _ value: String) -> String {
        name + String(value.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.map(Character.init))
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
