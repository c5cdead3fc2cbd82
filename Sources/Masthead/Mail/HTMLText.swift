import Foundation

/// Text going into HTML that Masthead writes by hand (emails, feeds), and HTML coming back out as the
/// plain text of an email's text part.
enum HTMLText {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
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
