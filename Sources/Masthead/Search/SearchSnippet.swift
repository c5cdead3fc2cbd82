import Foundation

/// Searched words marked in text. A snippet is cut from the text handed in, which the caller
/// takes from what the viewer may read; the index, which also holds gated words, never
/// supplies text.
enum SearchSnippet {
    /// About two lines of a result.
    static let words = 32
    /// How much of an article's readable text a snippet is looked for in.
    static let longestSource = 40_000
    /// Words shown before the first match, so that it reads in context.
    private static let lead = 6

    /// The passage of `text` with the most searched words, escaped, matches in `<mark>`.
    static func passage(of text: String, marking query: SearchQuery) -> String {
        let words = SearchText.words(text)
        guard !words.isEmpty else { return "" }
        let highlights = query.highlights
        let matched = words.map { matches($0.token, highlights) }
        var best = (start: 0, count: 0)
        for index in matched.indices where matched[index] {
            let start = max(0, index - lead)
            let count = matched[start..<min(words.count, start + Self.words)].filter { $0 }.count
            if count > best.count { best = (start, count) }
        }
        let end = min(words.count, best.start + Self.words)
        let html = marked(text, words: Array(words[best.start..<end]), matched: Array(matched[best.start..<end]))
        return (best.start > 0 ? "… " : "") + html + (end < words.count ? " …" : "")
    }

    /// All of `text` (a title), escaped, matches in `<mark>`.
    static func marked(_ text: String, query: SearchQuery) -> String {
        let words = SearchText.words(text)
        guard !words.isEmpty else { return HTMLText.escape(text) }
        let highlights = query.highlights
        let html = marked(text, words: words, matched: words.map { matches($0.token, highlights) })
        return HTMLText.escape(String(text[..<words[0].range.lowerBound])) + html
            + HTMLText.escape(String(text[words[words.count - 1].range.upperBound...]))
    }

    private static func marked(_ text: String, words: [SearchText.Word], matched: [Bool]) -> String {
        var html = ""
        for (index, word) in words.enumerated() {
            if index > 0 { html += HTMLText.escape(String(text[words[index - 1].range.upperBound..<word.range.lowerBound])) }
            let shown = HTMLText.escape(String(text[word.range]))
            html += matched[index] ? "<mark>\(shown)</mark>" : shown
        }
        return html
    }

    private static func matches(_ token: String, _ highlights: [(token: String, prefix: Bool)]) -> Bool {
        highlights.contains { $0.prefix ? token.hasPrefix($0.token) : token == $0.token }
    }
}
