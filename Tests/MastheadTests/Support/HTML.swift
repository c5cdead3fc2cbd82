import Foundation

/// Just enough reading of our own HTML for assertions: attributes of tags, by regular expression.
enum HTML {
    /// Values of `attribute` on every `<tag …>`.
    static func attributeValues(_ attribute: String, of tag: String, in html: String) -> [String] {
        let tagPattern = try! NSRegularExpression(pattern: "<\(tag)(?![\\w-])[^>]*>", options: [.caseInsensitive])
        let attributePattern = try! NSRegularExpression(pattern: "\\s\(attribute)=\"([^\"]*)\"")
        let range = NSRange(html.startIndex..., in: html)
        return tagPattern.matches(in: html, range: range).compactMap { match in
            let tagText = String(html[Range(match.range, in: html)!])
            let tagRange = NSRange(tagText.startIndex..., in: tagText)
            guard let attributeMatch = attributePattern.firstMatch(in: tagText, range: tagRange) else { return nil }
            return unescape(String(tagText[Range(attributeMatch.range(at: 1), in: tagText)!]))
        }
    }

    static func count(of tag: String, in html: String) -> Int {
        let pattern = try! NSRegularExpression(pattern: "<\(tag)(?![\\w-])", options: [.caseInsensitive])
        return pattern.numberOfMatches(in: html, range: NSRange(html.startIndex..., in: html))
    }

    /// The content of `<meta property|name="name" content="…">`.
    static func meta(_ name: String, in html: String) -> String? {
        let pattern = try! NSRegularExpression(pattern: "<meta (?:property|name)=\"\(NSRegularExpression.escapedPattern(for: name))\" content=\"([^\"]*)\">")
        guard let match = pattern.firstMatch(in: html, range: NSRange(html.startIndex..., in: html)) else { return nil }
        return unescape(String(html[Range(match.range(at: 1), in: html)!]))
    }

    /// The text between the first `open` marker and the next `close` marker.
    static func section(of html: String, from open: String, to close: String) -> String? {
        guard let start = html.range(of: open), let end = html.range(of: close, range: start.upperBound..<html.endIndex) else {
            return nil
        }
        return String(html[start.upperBound..<end.lowerBound])
    }

    /// Site-internal links: paths starting with one slash.
    static func internalLinks(in html: String) -> [String] {
        attributeValues("href", of: "a", in: html).filter { $0.hasPrefix("/") && !$0.hasPrefix("//") }
    }

    /// What a reader would read: tags removed, entities decoded, whitespace collapsed.
    static func text(of html: String) -> String {
        let withoutTags = html.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
        return unescape(withoutTags).replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&#x27;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
