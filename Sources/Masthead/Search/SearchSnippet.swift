import Foundation

/// Searched words marked in text. A snippet is cut from the text handed in, which the caller
/// takes from what the viewer may read; the index, which also holds gated words, never
/// supplies text.
enum SearchSnippet {
    /// About two lines of a result.
    static let words = 32
    /// How much of an article's readable text a snippet is looked for in: about a thousand
    /// words. Every word of it is split and folded for each of a page's twenty results.
    static let longestSource = 6_000
    /// Words shown before the first match, so that it reads in context.
    private static let lead = 6

    /// The passage of `text` with the most searched words, escaped, matches in `<mark>`.
    /// Reading stops at the first passage that holds a match for every term searched for: no
    /// later one says more, and most results have it in their first lines.
    static func passage(of text: String, marking query: SearchQuery) -> String {
        let highlights = query.highlights
        let termCount = min(64, (highlights.map(\.term).max() ?? 0) + 1)
        let everyTerm: UInt64 = termCount == 64 ? .max : (1 << UInt64(termCount)) - 1
        var words: [SearchText.Word] = []
        var hits: [UInt64] = []
        var best = (start: 0, count: 0)
        var waiting: [Int] = []
        var complete = false
        // Weighs the passage starting at `start` with the words read so far.
        func weigh(_ start: Int) {
            let passage = hits[start..<min(hits.count, start + Self.words)]
            let count = passage.count { $0 != 0 }
            if count > best.count { best = (start, count) }
            if passage.reduce(0, |) == everyTerm { complete = true }
        }
        SearchText.forEachWord(in: text) { word in
            words.append(word)
            // Once the passage is found, one word past it says that text follows.
            if complete, words.count > best.start + Self.words { return false }
            let hit = terms(matching: word.token, highlights)
            hits.append(hit)
            if hit != 0, !complete { waiting.append(max(0, hits.count - 1 - lead)) }
            while let start = waiting.first, hits.count >= start + Self.words {
                waiting.removeFirst()
                weigh(start)
            }
            return true
        }
        waiting.forEach(weigh)
        guard !words.isEmpty else { return "" }
        let end = min(hits.count, best.start + Self.words)
        let html = marked(text, words: Array(words[best.start..<end]), matched: hits[best.start..<end].map { $0 != 0 })
        return (best.start > 0 ? "… " : "") + html + (end < words.count ? " …" : "")
    }

    /// All of `text` (a title), escaped, matches in `<mark>`.
    static func marked(_ text: String, query: SearchQuery) -> String {
        let words = SearchText.words(text)
        guard !words.isEmpty else { return HTMLText.escape(text) }
        let highlights = query.highlights
        let html = marked(text, words: words, matched: words.map { terms(matching: $0.token, highlights) != 0 })
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

    /// The terms a word matches, one bit per term (the 64th stands for any after it).
    private static func terms(matching token: String, _ highlights: [(token: String, prefix: Bool, term: Int)]) -> UInt64 {
        var bits: UInt64 = 0
        for highlight in highlights where highlight.prefix ? token.hasPrefix(highlight.token) : token == highlight.token {
            bits |= 1 << UInt64(min(highlight.term, 63))
        }
        return bits
    }
}
