import Foundation

/// The shortcodes WordPress's classic editor leaves in post bodies, turned into the HTML they
/// stand for, so the Markdown conversion sees captions and embeds as the block editor writes them.
/// Read in one pass, without patterns that could take quadratic time on a hostile body.
enum WordPressShortcodes {
    static func expanded(_ content: String) -> String {
        var output = ""
        var rest = content[...]
        while let open = rest.range(of: "[") {
            output += rest[..<open.lowerBound]
            rest = rest[open.lowerBound...]
            if let (html, length) = shortcode(at: rest, name: "caption", transform: caption) ?? shortcode(at: rest, name: "embed", transform: embed) {
                output += html
                rest = rest.dropFirst(length)
            } else {
                output += "["
                rest = rest.dropFirst()
            }
        }
        return output + rest
    }

    /// `[name …]inner[/name]` at the start of `text`: its HTML and how many characters it spans.
    private static func shortcode(at text: Substring, name: String, transform: (Substring) -> String) -> (String, Int)? {
        guard text.lowercased().hasPrefix("[\(name)"),
              let head = text.firstIndex(of: "]"),
              let close = text[head...].range(of: "[/\(name)]", options: .caseInsensitive)
        else { return nil }
        let inner = text[text.index(after: head)..<close.lowerBound]
        return (transform(inner), text.distance(from: text.startIndex, to: close.upperBound))
    }

    private static func caption(_ inner: Substring) -> String {
        guard let start = inner.range(of: "<img", options: .caseInsensitive), let end = inner[start.upperBound...].firstIndex(of: ">") else { return String(inner) }
        var pictureEnd = inner.index(after: end)
        if let closing = inner[pictureEnd...].range(of: "</a>", options: .caseInsensitive),
           inner[pictureEnd..<closing.lowerBound].allSatisfy(\.isWhitespace) {
            pictureEnd = closing.upperBound
        }
        let words = inner[pictureEnd...].trimmingCharacters(in: .whitespacesAndNewlines)
        return "<figure>\(inner[..<pictureEnd])<figcaption>\(words)</figcaption></figure>"
    }

    private static func embed(_ address: Substring) -> String {
        "<figure class=\"wp-block-embed\">\(address.trimmingCharacters(in: .whitespacesAndNewlines))</figure>"
    }
}
