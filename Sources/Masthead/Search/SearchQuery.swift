import Foundation

/// What a reader typed, in the form the index is asked: words, each possibly the start of a
/// word still being typed or a name within one typo, and quoted phrases. All terms must match.
struct SearchQuery: Equatable, Sendable {
    enum Term: Equatable, Sendable {
        /// `prefix` when the reader may still be typing it; `alternatives` are names one typo away.
        case word(String, prefix: Bool, alternatives: [String])
        case phrase([String])
    }

    static let maximumLength = 200
    /// More words than anyone types on purpose; each costs the index a lookup.
    static let maximumTerms = 12

    let text: String
    private(set) var terms: [Term]

    var isEmpty: Bool { terms.isEmpty }

    /// Throws when the text is longer than any real search: the reader is told, not cut off.
    init(_ typed: String) throws(SearchError) {
        let text = typed.trimmingCharacters(in: .whitespacesAndNewlines)
        // Code points too: one user-perceived character can hold thousands of them.
        guard text.count <= Self.maximumLength, text.unicodeScalars.count <= 2 * Self.maximumLength else { throw .queryTooLong }
        self.text = text
        terms = Self.parse(typed)
    }

    /// Every token with whether it matches as a prefix and the place of its term in the
    /// query: what a snippet highlights.
    var highlights: [(token: String, prefix: Bool, term: Int)] {
        terms.enumerated().flatMap { place, term -> [(token: String, prefix: Bool, term: Int)] in
            switch term {
            case .word(let token, let prefix, let alternatives):
                [(token, prefix, place)] + alternatives.map { ($0, false, place) }
            case .phrase(let tokens):
                tokens.map { ($0, false, place) }
            }
        }
    }

    /// The words typed as prefixes (the last word, while the reader may still be typing it).
    var prefixes: [String] {
        terms.compactMap { term in
            guard case .word(let token, true, _) = term else { return nil }
            return token
        }
    }

    /// The same query with each prefix that `words` knows replaced by the whole words it
    /// begins, any of which matches: the same matches, for an index that finds words by name
    /// faster than by their beginning.
    func replacingPrefixes(with words: [String: [String]]) -> SearchQuery {
        var replaced = self
        replaced.terms = terms.map { term in
            guard case .word(let token, true, let alternatives) = term, let whole = words[token] else { return term }
            guard !whole.isEmpty else {
                // No word begins as typed: an Arabic word typed with its article may be on its way
                // to one filed without it (العر to العراق, filed as عراق). Only then: a word that
                // is filed with its article (الله) must not also match every word beginning له.
                let stripped = SearchText.prefixWithoutArticle(token)
                return stripped == token ? term : .word(stripped, prefix: true, alternatives: alternatives)
            }
            return .word(token, prefix: false, alternatives: whole.filter { $0 != token } + alternatives)
        }
        return replaced
    }

    /// The same query with each word that is not a known name widened to the names one typo away.
    func widened(by vocabulary: NameVocabulary) -> SearchQuery {
        var widened = self
        widened.terms = terms.map { term in
            guard case .word(let token, let prefix, _) = term else { return term }
            return .word(token, prefix: prefix, alternatives: vocabulary.oneTypoAway(from: token))
        }
        return widened
    }

    /// Whether text of these tokens matches every term, as the index would match it: for the
    /// few unpublished articles staff search by title, which the index never holds.
    func matches(_ tokens: [String]) -> Bool {
        terms.allSatisfy { term in
            switch term {
            case .word(let token, let prefix, let alternatives):
                tokens.contains { prefix ? $0.hasPrefix(token) : $0 == token } || tokens.contains(where: alternatives.contains)
            case .phrase(let phrase):
                tokens.count >= phrase.count && (0...(tokens.count - phrase.count)).contains { Array(tokens[$0..<($0 + phrase.count)]) == phrase }
            }
        }
    }

    private static let quotes: Set<Character> = ["\"", "“", "”", "«", "»", "„"]

    private static func parse(_ typed: String) -> [Term] {
        var terms: [Term] = []
        var quoted = false
        var segment = ""
        func close() {
            let tokens = SearchText.tokens(segment)
            if quoted, tokens.count > 1 {
                terms.append(.phrase(tokens))
            } else {
                terms += tokens.map { .word($0, prefix: false, alternatives: []) }
            }
            segment = ""
        }
        for character in typed {
            if quotes.contains(character) {
                close()
                quoted.toggle()
            } else {
                segment.append(character)
            }
        }
        let stillTyping = !quoted && typed.last.map { !$0.isWhitespace && !quotes.contains($0) } ?? false
        close()
        terms = Array(terms.prefix(maximumTerms))
        if stillTyping, case .word(let token, _, _)? = terms.last {
            if token.unicodeScalars.count >= 2 {
                terms[terms.count - 1] = .word(token, prefix: true, alternatives: [])
            } else if terms.count > 1 {
                // One letter of a word still being typed says nothing yet, and as a prefix it
                // would match half the archive.
                terms.removeLast()
            }
        }
        return terms
    }
}

enum SearchError: Error, Equatable {
    case queryTooLong
    case badDate(field: String)
    case unknownFilter(field: String)
}
