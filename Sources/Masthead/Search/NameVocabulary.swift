import Foundation

/// The words of every topic's names and aliases, in every edition, and of every author's name:
/// the names readers misspell. It finds the known names one typo away from a word (a letter
/// missing, added, changed, or two swapped), and the topics a search names.
///
/// Lookups use deletions: two words are at most one typo apart only if they share a form
/// with at most one letter deleted from each, so each name is filed under those forms once
/// and a word looks up its own few forms, not the whole vocabulary.
struct NameVocabulary: Sendable {
    struct TopicNames: Sendable {
        let topicID: UUID
        /// Each name or alias, as tokens.
        let names: [[String]]
    }

    /// Short words have too many neighbours one typo away to guess from.
    static let shortestCorrected = 4

    private let terms: Set<String>
    private let longestTerm: Int
    private let byDeletion: [String: [String]]
    private let topics: [TopicNames]

    init(topics: [TopicNames], authorNames: [[String]]) {
        self.topics = topics
        var terms = Set<String>()
        for names in topics.flatMap(\.names) + authorNames { terms.formUnion(names) }
        self.terms = terms
        longestTerm = terms.map(\.unicodeScalars.count).max() ?? 0
        var byDeletion: [String: [String]] = [:]
        for term in terms where term.unicodeScalars.count >= Self.shortestCorrected - 1 {
            for form in Self.forms(of: term) { byDeletion[form, default: []].append(term) }
        }
        self.byDeletion = byDeletion
    }

    /// The known names one typo from `word`; none when `word` is itself a known name.
    func oneTypoAway(from word: String) -> [String] {
        let length = word.unicodeScalars.count
        guard length >= Self.shortestCorrected, length <= longestTerm + 1, !terms.contains(word) else { return [] }
        var found = Set<String>()
        for form in Self.forms(of: word) {
            for term in byDeletion[form] ?? [] where Self.withinOneEdit(Array(word.unicodeScalars), Array(term.unicodeScalars)) {
                found.insert(term)
            }
        }
        return found.sorted()
    }

    /// Topics with a name or alias that contains every word of the search, each word matching
    /// a word of the name exactly, as its beginning, or within one typo.
    func topics(matching query: SearchQuery) -> [UUID] {
        guard !query.isEmpty else { return [] }
        return topics.filter { topic in
            topic.names.contains { name in
                query.terms.allSatisfy { term in
                    switch term {
                    case .word(let token, _, let alternatives):
                        name.contains { $0.hasPrefix(token) || alternatives.contains($0) }
                    case .phrase(let tokens):
                        tokens.allSatisfy(name.contains)
                    }
                }
            }
        }.map(\.topicID)
    }

    /// The word itself and each form with one letter deleted.
    private static func forms(of word: String) -> Set<String> {
        let scalars = Array(word.unicodeScalars)
        var forms: Set<String> = [word]
        for index in scalars.indices {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[..<index])
            view.append(contentsOf: scalars[(index + 1)...])
            forms.insert(String(view))
        }
        return forms
    }

    /// Whether the optimal-string-alignment distance is at most one.
    static func withinOneEdit(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Bool {
        if a == b { return true }
        if abs(a.count - b.count) > 1 { return false }
        var start = 0
        while start < min(a.count, b.count), a[start] == b[start] { start += 1 }
        if a.count == b.count {
            if a[(start + 1)...] == b[(start + 1)...] { return true }
            // Two neighbouring letters swapped.
            return start + 1 < a.count && a[start] == b[start + 1] && a[start + 1] == b[start]
                && a[(start + 2)...] == b[(start + 2)...]
        }
        let (longer, shorter) = a.count > b.count ? (a, b) : (b, a)
        return longer[(start + 1)...] == shorter[start...]
    }
}
