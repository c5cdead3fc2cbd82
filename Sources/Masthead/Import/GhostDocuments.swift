import Foundation

/// Ghost's editor documents turned into the HTML Ghost itself would render, for posts an export
/// carries without their HTML; the HTML then becomes Markdown like any other import's.
enum GhostLexical {
    static func html(_ json: String) -> String {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let root = document["root"] as? [String: Any]
        else { return "" }
        return children(of: root, depth: 0)
    }

    private static func children(of node: [String: Any], depth: Int) -> String {
        guard depth < HTMLNodes.maximumDepth else { return "" }
        return (node["children"] as? [[String: Any]] ?? []).map { render($0, depth: depth + 1) }.joined()
    }

    private static func render(_ node: [String: Any], depth: Int) -> String {
        let inner = { children(of: node, depth: depth) }
        let text = { (key: String) in escape(node[key] as? String ?? "") }
        switch node["type"] as? String {
        case "paragraph": return "<p>\(inner())</p>"
        case "heading":
            let tag = (node["tag"] as? String).flatMap { ["h1", "h2", "h3", "h4", "h5", "h6"].contains($0) ? $0 : nil } ?? "h2"
            return "<\(tag)>\(inner())</\(tag)>"
        case "quote", "aside": return "<blockquote>\(inner())</blockquote>"
        case "list":
            let tag = node["listType"] as? String == "number" ? "ol" : "ul"
            return "<\(tag)>\(inner())</\(tag)>"
        case "listitem": return "<li>\(inner())</li>"
        case "link": return "<a href=\"\(text("url"))\">\(inner())</a>"
        case "linebreak": return "<br>"
        case "horizontalrule": return "<hr>"
        case "paywall": return "<!--members-only-->"
        case "text", "extended-text":
            var html = text("text")
            let format = node["format"] as? Int ?? 0
            if format & 16 != 0 { html = "<code>\(html)</code>" }
            if format & 4 != 0 { html = "<s>\(html)</s>" }
            if format & 2 != 0 { html = "<em>\(html)</em>" }
            if format & 1 != 0 { html = "<strong>\(html)</strong>" }
            return html
        case "image":
            let caption = node["caption"] as? String ?? ""
            return "<figure><img src=\"\(text("src"))\" alt=\"\(text("altText"))\">\(caption.isEmpty ? "" : "<figcaption>\(caption)</figcaption>")</figure>"
        case "embed", "bookmark", "video", "audio":
            return "<figure class=\"wp-block-embed\">\(text("url").isEmpty ? text("src") : text("url"))</figure>"
        case "html": return node["html"] as? String ?? ""
        case "markdown": return "<pre>\(text("markdown"))</pre>"
        case "codeblock": return "<pre><code>\(text("code"))</code></pre>"
        default: return inner()
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Mobiledoc (Ghost before 5): sections of markers, with cards for images, embeds and HTML.
enum GhostMobiledoc {
    static func html(_ json: String) -> String {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return "" }
        let markups = document["markups"] as? [[Any]] ?? []
        let cards = document["cards"] as? [[Any]] ?? []
        return (document["sections"] as? [[Any]] ?? []).map { section(_: $0, markups: markups, cards: cards) }.joined()
    }

    private static func section(_ section: [Any], markups: [[Any]], cards: [[Any]]) -> String {
        switch section.first as? Int {
        case 1:
            let tag = (section[safe: 1] as? String).flatMap { ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "aside"].contains($0.lowercased()) ? $0.lowercased() : nil } ?? "p"
            let html = markers(section[safe: 2] as? [[Any]] ?? [], markups: markups)
            return tag == "aside" ? "<blockquote>\(html)</blockquote>" : "<\(tag)>\(html)</\(tag)>"
        case 3:
            let tag = (section[safe: 1] as? String)?.lowercased() == "ol" ? "ol" : "ul"
            let items = (section[safe: 2] as? [[[Any]]] ?? []).map { "<li>\(markers($0, markups: markups))</li>" }.joined()
            return "<\(tag)>\(items)</\(tag)>"
        case 10:
            guard let index = section[safe: 1] as? Int, let card = cards[safe: index], let name = card.first as? String else { return "" }
            let payload = card[safe: 1] as? [String: Any] ?? [:]
            let value = { (key: String) in GhostLexical.escape(payload[key] as? String ?? "") }
            switch name {
            case "image":
                let caption = payload["caption"] as? String ?? ""
                return "<figure><img src=\"\(value("src"))\" alt=\"\(value("alt"))\">\(caption.isEmpty ? "" : "<figcaption>\(caption)</figcaption>")</figure>"
            case "embed", "bookmark": return "<figure class=\"wp-block-embed\">\(value("url"))</figure>"
            case "html": return payload["html"] as? String ?? ""
            case "markdown", "card-markdown": return "<pre>\(value("markdown"))</pre>"
            case "hr": return "<hr>"
            case "paywall": return "<!--members-only-->"
            case "code": return "<pre><code>\(value("code"))</code></pre>"
            default: return ""
            }
        default:
            return ""
        }
    }

    /// Markers: `[kind, opened markup indexes, how many markups close after, text]`.
    private static func markers(_ markers: [[Any]], markups: [[Any]]) -> String {
        var html = ""
        var open: [String] = []
        for marker in markers {
            for index in marker[safe: 1] as? [Int] ?? [] {
                guard let markup = markups[safe: index], let tag = (markup.first as? String)?.lowercased(),
                      ["a", "strong", "b", "em", "i", "s", "code", "sup", "sub", "u"].contains(tag) else {
                    open.append("")
                    continue
                }
                let attributes = markup[safe: 1] as? [String] ?? []
                let href = tag == "a" ? attributes.firstIndex(of: "href").flatMap { attributes[safe: $0 + 1] } : nil
                html += href.map { "<a href=\"\(GhostLexical.escape($0))\">" } ?? "<\(tag)>"
                open.append(tag)
            }
            if marker.first as? Int == 0 { html += GhostLexical.escape(marker[safe: 3] as? String ?? "") }
            for _ in 0..<max(0, min(marker[safe: 2] as? Int ?? 0, open.count)) {
                let tag = open.removeLast()
                if !tag.isEmpty { html += "</\(tag)>" }
            }
        }
        while let tag = open.popLast() {
            if !tag.isEmpty { html += "</\(tag)>" }
        }
        return html
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
