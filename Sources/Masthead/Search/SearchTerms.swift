import Foundation
import SQLKit

/// The list of every word the index holds (`search_terms`), so that a prefix the reader is
/// still typing can be asked as the few whole words it begins: an index finds a word by name
/// far faster than every word with a beginning (FTS5 steps through them all; PostgreSQL's GIN
/// gathers every row holding any of them before it can narrow by anything else). Every filing
/// lists its words in the same transaction (`SearchIndexing`), so the list holds every word the
/// index does. Words are taken out only by a rebuild, which lists them all again once complete:
/// one no article holds any more only widens a prefix by a word that matches nothing.
enum SearchTerms {
    /// More words than this to a prefix and the index's own prefix matching is left to find them.
    static let mostPerPrefix = 64

    /// Adds the documents' words to the list, in order (two filings adding the same new words
    /// then never wait for each other the wrong way round).
    static func list(_ documents: [SearchDocument], on database: any SQLDatabase) async throws {
        var terms = Set<Substring>()
        for document in documents {
            for text in [document.title, document.names, document.preview, document.rest] {
                for word in text.utf8.split(separator: UInt8(ascii: " ")) { terms.insert(Substring(word)) }
            }
        }
        for chunk in terms.sorted().chunked(into: SearchSQL.rowsPerInsert) {
            let insert = database.insert(into: "search_terms").columns("term").ignoringConflicts(with: "term")
            for term in chunk { insert.values([String(term)]) }
            try await insert.run()
        }
    }

    /// The query with each prefix longer than `shortest` letters asked as the words it begins,
    /// when there are few; one that begins no listed word, typed with the Arabic article, as
    /// the words it begins without it (العر as عراق, عربي…).
    static func prepared(_ query: SearchQuery, longerThan shortest: Int, on database: any SQLDatabase) async throws -> SearchQuery {
        let once = query.replacingPrefixes(with: try await beginning(query.prefixes, longerThan: shortest, on: database))
        let stripped = once.prefixes.filter { !query.prefixes.contains($0) }
        guard !stripped.isEmpty else { return once }
        return once.replacingPrefixes(with: try await beginning(stripped, longerThan: shortest, on: database))
    }

    /// The listed words each prefix longer than `shortest` letters begins. A prefix with more
    /// than `mostPerPrefix` is left out, for the index to match itself; one with none listed
    /// maps to no words (`SearchQuery.replacingPrefixes` then tries it without the Arabic article).
    private static func beginning(_ prefixes: [String], longerThan shortest: Int, on database: any SQLDatabase) async throws -> [String: [String]] {
        // As one text: SQLite's driver hands each row to the event loop on its own.
        let joined: SQLQueryString = database.dialect.name == "postgresql" ? "string_agg(term, ' ')" : "group_concat(term, ' ')"
        var words: [String: [String]] = [:]
        for prefix in Set(prefixes) where prefix.unicodeScalars.count > shortest {
            // U+10FFFF is never part of a word, so it sorts after every word with the prefix
            // (PostgreSQL's list is in code point order, `COLLATE "C"`, as SQLite's always is).
            let listed = try await database.raw("SELECT " + joined + """
                 AS terms FROM (
                    SELECT term FROM search_terms WHERE term >= \(bind: prefix) AND term < \(bind: prefix + "\u{10FFFF}")
                    ORDER BY term LIMIT \(literal: mostPerPrefix + 1)) listed
                """).first()?.decode(column: "terms", as: String?.self)
            let found = listed?.split(separator: " ").map(String.init) ?? []
            guard found.count <= mostPerPrefix else { continue }
            words[prefix] = found
        }
        return words
    }
}
