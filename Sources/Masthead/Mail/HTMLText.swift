import Foundation

/// Text going into HTML that Masthead writes by hand (emails, feeds), and HTML coming back out as the
/// plain text of an email's text part.
enum HTMLText {
    /// Escapes by code point, not by character: a `<` or `"` that a neighbouring mark or
    /// prefix joins into one user-perceived character is still a `<` or `"` to a browser.
    static func escape(_ text: String) -> String {
        escape(text, apostrophes: false)
    }

    /// Apostrophes too, for text that may land in a single-quoted attribute.
    static func escapeForAttributes(_ text: String) -> String {
        escape(text, apostrophes: true)
    }

    private static func escape(_ text: String, apostrophes: Bool) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || (apostrophes && $0 == 0x27) }) else {
            return text
        }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'" where apostrophes: escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    /// Site-relative links and images made absolute, for HTML read away from the site (a mail
    /// client, a feed reader).
    static func absoluteLinks(_ html: String, publicURL: String) -> String {
        html.replacingOccurrences(of: "href=\"/", with: "href=\"\(publicURL)/")
            .replacingOccurrences(of: "src=\"/", with: "src=\"\(publicURL)/")
    }

    private static let blockEnd = try! NSRegularExpression(pattern: #"</(p|h[1-6]|li|blockquote|pre|tr|table|ul|ol)>|<br\s*/?>|<hr\s*/?>"#, options: .caseInsensitive)
    private static let link = try! NSRegularExpression(pattern: #"<a\s[^>]*href="([^"]*)"[^>]*>(.*?)</a>"#, options: [.caseInsensitive, .dotMatchesLineSeparators])
    private static let listItem = try! NSRegularExpression(pattern: #"<li>"#, options: .caseInsensitive)
    private static let anyTag = try! NSRegularExpression(pattern: #"<[^>]+>"#)

    /// Paragraphs as blank-line-separated text, list items as "- ", links as "text (address)",
    /// entities decoded: what a reader of the plain-text part expects.
    static func plain(_ html: String) -> String {
        var text = replace(link, in: html, with: "$2 ($1)")
        text = replace(listItem, in: text, with: "- ")
        text = replace(blockEnd, in: text, with: "\n\n")
        text = replace(anyTag, in: text, with: "")
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&nbsp;", "\u{00A0}"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        let paragraphs = text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return paragraphs.joined(separator: "\n\n")
    }

    private static func replace(_ pattern: NSRegularExpression, in text: String, with template: String) -> String {
        pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}
