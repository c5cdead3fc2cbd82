import Foundation

/// Keeps an article body's HTML to what Markdown itself produces.
///
/// Ink passes raw HTML in the Markdown through untouched, and since contributors write bodies,
/// that would let the least trusted role put forms, buttons or event handlers in front of
/// editors (in the preview) and readers. So every tag is checked against the elements and
/// attributes Markdown generates; anything else is shown as text, comments are dropped, and
/// links and images keep only web, mail and same-site addresses.
enum BodyHTML {
    private static let allowed: [String: Set<String>] = [
        "p": [], "br": [], "hr": [], "em": [], "strong": [], "del": [], "s": [], "sup": [], "sub": [],
        "h1": [], "h2": [], "h3": [], "h4": [], "h5": [], "h6": [],
        "ul": [], "ol": ["start"], "li": [], "blockquote": [], "pre": [], "code": ["class"],
        "a": ["href", "title"], "img": ["src", "alt", "title"],
        "table": [], "thead": [], "tbody": [], "tr": [], "th": ["align"], "td": ["align"],
    ]
    private static let urlAttributes: Set<String> = ["href", "src"]
    private static let safeURLPrefixes = ["https://", "http://", "mailto:", "/", "#"]

    private static let tag = try! NSRegularExpression(pattern: #"^<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^<>]*?)?)\s*/?>"#)
    private static let attribute = try! NSRegularExpression(
        pattern: #"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"#
    )

    static func sanitized(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var rest = html[...]
        while let open = rest.firstIndex(of: "<") {
            output += rest[..<open]
            rest = rest[open...]
            if rest.hasPrefix("<!--") {
                rest = rest.range(of: "-->").map { rest[$0.upperBound...] } ?? ""
                continue
            }
            if let (replacement, length) = rebuiltTag(at: rest) {
                output += replacement
                rest = rest.dropFirst(length)
            } else {
                output += "&lt;"
                rest = rest.dropFirst()
            }
        }
        output += rest
        return output
    }

    /// The tag at the start of `text` rebuilt from its allowed parts, with how many characters
    /// it spanned; nil when it is not a tag Markdown makes.
    private static func rebuiltTag(at text: Substring) -> (String, Int)? {
        let string = String(text.prefix(2000))
        guard let match = tag.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)),
              let whole = Range(match.range, in: string),
              let nameRange = Range(match.range(at: 2), in: string)
        else { return nil }
        let name = string[nameRange].lowercased()
        guard let permitted = allowed[name] else { return nil }
        if let slash = Range(match.range(at: 1), in: string), !string[slash].isEmpty {
            return ("</\(name)>", string[whole].count)
        }
        var rebuilt = "<\(name)"
        if let attributesRange = Range(match.range(at: 3), in: string) {
            let attributes = String(string[attributesRange])
            for found in attribute.matches(in: attributes, range: NSRange(attributes.startIndex..., in: attributes)) {
                guard let keyRange = Range(found.range(at: 1), in: attributes) else { continue }
                let key = attributes[keyRange].lowercased()
                let value = (2...4).lazy.compactMap { Range(found.range(at: $0), in: attributes).map { String(attributes[$0]) } }.first ?? ""
                guard permitted.contains(key), isSafe(key: key, value: value, element: name) else { continue }
                rebuilt += " \(key)=\"\(value.replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;"))\""
            }
        }
        return (rebuilt + ">", string[whole].count)
    }

    private static func isSafe(key: String, value: String, element: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if urlAttributes.contains(key) {
            return safeURLPrefixes.contains { trimmed.lowercased().hasPrefix($0) }
        }
        switch key {
        case "class": return trimmed.hasPrefix("language-") && trimmed.allSatisfy { $0.isLetter || $0.isNumber || "-+#_".contains($0) }
        case "align": return ["left", "center", "right"].contains(trimmed)
        case "start": return Int(trimmed) != nil
        default: return true
        }
    }
}
