import Foundation

/// A comment's text as readers see it: the words the member typed, escaped, in paragraphs,
/// with web addresses made into links that search engines do not follow. Never HTML from the
/// member: nothing they type becomes markup.
enum CommentText {
    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n")
            .components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .map { paragraph in
                "<p>" + paragraph.components(separatedBy: "\n").map(linked).joined(separator: "<br>") + "</p>"
            }
            .joined()
    }

    /// One line, escaped, with each `http://` or `https://` address up to the next space made a link.
    private static func linked(_ line: String) -> String {
        var html = ""
        for (index, word) in line.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { html += " " }
            let (address, trailing) = splitTrailingPunctuation(word)
            if isWebAddress(address) {
                let escaped = escape(String(address))
                html += "<a href=\"\(escaped)\" rel=\"nofollow ugc noopener noreferrer\">\(escaped)</a>" + escape(String(trailing))
            } else {
                html += escape(String(word))
            }
        }
        return html
    }

    /// A sentence's full stop or closing bracket after an address is not part of it.
    private static func splitTrailingPunctuation(_ word: Substring) -> (Substring, Substring) {
        var end = word.endIndex
        while end > word.startIndex, ".,;:!?)]»،؛".contains(word[word.index(before: end)]) {
            end = word.index(before: end)
        }
        return (word[..<end], word[end...])
    }

    private static func isWebAddress(_ word: Substring) -> Bool {
        let lower = word.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), word.count > 8, word.count <= 500,
              let url = URL(string: String(word)), let host = url.host, !host.isEmpty
        else { return false }
        return true
    }

    /// Code point by code point: a prefix mark joined to "<" makes one Character that is not "<".
    private static func escape(_ text: String) -> String {
        HTMLText.escapeForAttributes(text)
    }
}
