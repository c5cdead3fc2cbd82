import Foundation

/// HTML as other platforms store a post (WordPress's block editor and its classic one, where
/// paragraphs are blank lines) turned into the Markdown Masthead's editors write: headings,
/// paragraphs, lists, quotes, images with their captions, tables and code. Embedded players
/// become links to what they play; scripts, styles and forms are dropped and reported.
struct HTMLMarkdown {
    /// Where an image's address should point instead (a copy in the media folder), or nil to keep it.
    var relocateImage: (String) -> String? = { _ in nil }
    private(set) var dropped: [String] = []

    mutating func convert(_ html: String) -> String {
        let nodes = HTMLNodes.parse(html)
        var output = Blocks()
        render(nodes, into: &output)
        return output.finished()
    }

    // MARK: Blocks

    private struct Blocks {
        var blocks: [String] = []
        var paragraph = ""

        mutating func add(_ block: String) {
            flush()
            let trimmed = block.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { blocks.append(trimmed) }
        }

        mutating func flush() {
            let text = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
            paragraph = ""
            guard !text.isEmpty else { return }
            // A web address alone on its line is what WordPress turns into an embedded player.
            if !text.contains(" "), let url = URL(string: text.replacingOccurrences(of: "\\", with: "")), ["http", "https"].contains(url.scheme ?? "") {
                let plain = text.replacingOccurrences(of: "\\", with: "")
                blocks.append("[\(HTMLMarkdown.escaped(plain))](\(plain))")
            } else {
                blocks.append(text)
            }
        }

        mutating func finished() -> String {
            flush()
            return blocks.joined(separator: "\n\n")
        }
    }

    private mutating func render(_ nodes: [HTMLNodes.Node], into output: inout Blocks) {
        for node in nodes {
            switch node {
            case .text(let text):
                // Classic posts part paragraphs with blank lines rather than <p>.
                let pieces = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
                for (index, piece) in pieces.enumerated() {
                    if index > 0 { output.flush() }
                    output.paragraph += Self.escaped(Self.collapsed(piece))
                }
            case .element(let name, let attributes, let children):
                renderElement(name, attributes, children, into: &output)
            }
        }
    }

    private mutating func renderElement(_ name: String, _ attributes: [String: String], _ children: [HTMLNodes.Node], into output: inout Blocks) {
        let classes = Set((attributes["class"] ?? "").split(separator: " ").map(String.init))
        if name == HTMLNodes.paywallElement || classes.contains("paywall-jump") {
            output.add(ArticleBody.paywallMarker)
            return
        }
        // The old platform's own calls to subscribe or share would send readers back there.
        guard classes.isDisjoint(with: Self.platformChrome) else { return }
        switch name {
        case "p":
            output.flush()
            output.paragraph = inline(children)
            output.flush()
        case "h1", "h2", "h3", "h4", "h5", "h6":
            let text = inline(children).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { output.add(String(repeating: "#", count: Int(String(name.last!))!) + " " + text.replacingOccurrences(of: "  \n", with: " ")) }
        case "ul", "ol":
            output.add(list(children, ordered: name == "ol", depth: 0))
        case "blockquote":
            var quoted = Blocks()
            render(children, into: &quoted)
            let text = quoted.finished()
            output.add(text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? ">" : "> \($0)" }.joined(separator: "\n"))
        case "cite":
            output.paragraph += "— " + inline(children)
        case "figure":
            output.add(figure(attributes, children))
        case "pre":
            let code = HTMLNodes.text(of: children).trimmingCharacters(in: .newlines).replacingOccurrences(of: "```", with: "\u{2018}\u{2018}\u{2018}")
            output.add("```\n\(code)\n```")
        case "hr":
            output.add("---")
        case "table":
            output.add(table(children))
        case "iframe", "video", "audio", "embed", "object", "source":
            if let source = attributes["src"] ?? attributes["data"], let link = Self.link(to: source) { output.add(link) }
        case "script", "style", "form", "noscript", "button", "input", "select", "textarea", "template", "svg":
            dropped.append("<\(name)>")
        case "div", "section", "article", "main", "header", "footer", "aside", "center", "details", "summary", "dl", "dd", "dt":
            output.flush()
            render(children, into: &output)
            output.flush()
        default:
            output.paragraph += inline([.element(name, attributes, children)])
        }
    }

    /// Substack's subscribe, share and app buttons and widgets.
    private static let platformChrome: Set<String> = [
        "subscription-widget-wrap", "subscription-widget-wrap-editor", "subscription-widget", "subscribe-widget", "button-wrapper",
        "captioned-button-wrap", "share-dialog", "install-substack-app-embed", "community-chat",
    ]

    private mutating func list(_ items: [HTMLNodes.Node], ordered: Bool, depth: Int) -> String {
        var lines: [String] = []
        var number = 0
        for case .element(let name, _, let children) in items where name == "li" {
            number += 1
            let marker = ordered ? "\(number). " : "- "
            let indent = String(repeating: " ", count: depth * 3)
            var text = ""
            var nested: [String] = []
            for child in children {
                if case .element(let childName, _, let grandchildren) = child, childName == "ul" || childName == "ol" {
                    nested.append(list(grandchildren, ordered: childName == "ol", depth: depth + 1))
                } else if case .element("p", _, let grandchildren) = child {
                    text += (text.isEmpty ? "" : " ") + inline(grandchildren)
                } else {
                    text += inline([child])
                }
            }
            lines.append(indent + marker + Self.collapsed(text).trimmingCharacters(in: .whitespaces))
            lines += nested
        }
        return lines.joined(separator: "\n")
    }

    private mutating func figure(_ attributes: [String: String], _ children: [HTMLNodes.Node]) -> String {
        let all = HTMLNodes.elements(in: children)
        let caption = all.first { $0.name == "figcaption" }.map { inline($0.children).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        if let image = all.first(where: { $0.name == "img" }), let source = image.attributes["src"] {
            let picture = "![\(Self.escaped(image.attributes["alt"] ?? ""))](\(Self.target(relocateImage(source) ?? source)))"
            let linked = all.first(where: { $0.name == "a" && $0.children.contains { if case .element("img", _, _) = $0 { true } else { false } } })?.attributes["href"]
            let shown = linked.flatMap { href in
                relocateImage(href) == nil && !Self.isImageFile(href) && Self.isLinkable(href) ? "[\(picture)](\(Self.target(href)))" : nil
            } ?? picture
            return caption.isEmpty ? shown : "\(shown)\n*\(caption)*"
        }
        if let table = all.first(where: { $0.name == "table" }) {
            return [self.table(table.children), caption.isEmpty ? "" : "*\(caption)*"].filter { !$0.isEmpty }.joined(separator: "\n\n")
        }
        if let player = all.first(where: { ["iframe", "video", "audio", "embed"].contains($0.name) }), let source = player.attributes["src"] {
            return Self.link(to: source) ?? ""
        }
        // A block editor embed: the address is the figure's text.
        let address = HTMLNodes.text(of: children.filter { if case .element("figcaption", _, _) = $0 { false } else { true } })
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var output = Blocks()
        if let link = Self.link(to: address) {
            output.add(link)
        } else {
            render(children.filter { if case .element("figcaption", _, _) = $0 { false } else { true } }, into: &output)
        }
        return [output.finished(), caption.isEmpty ? "" : "*\(caption)*"].filter { !$0.isEmpty }.joined(separator: "\n")
    }

    private mutating func table(_ children: [HTMLNodes.Node]) -> String {
        let rows = HTMLNodes.elements(in: children).filter { $0.name == "tr" }.map { row in
            row.children.compactMap { cell -> String? in
                guard case .element(let name, _, let content) = cell, name == "td" || name == "th" else { return nil }
                return Self.collapsed(inline(content)).trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "|", with: "\\|")
            }
        }.filter { !$0.isEmpty }
        guard let width = rows.map(\.count).max(), width > 0 else { return "" }
        let padded = rows.map { $0 + Array(repeating: "", count: width - $0.count) }
        let lines = padded.map { "| " + $0.joined(separator: " | ") + " |" }
        return ([lines[0], "|" + String(repeating: " --- |", count: width)] + lines.dropFirst()).joined(separator: "\n")
    }

    // MARK: Inline

    private mutating func inline(_ nodes: [HTMLNodes.Node]) -> String {
        var text = ""
        for node in nodes {
            switch node {
            case .text(let content):
                text += Self.escaped(Self.collapsed(content))
            case .element(let name, let attributes, let children):
                switch name {
                case "strong", "b":
                    text += Self.wrapped(inline(children), in: "**")
                case "em", "i":
                    text += Self.wrapped(inline(children), in: "*")
                case "del", "s", "strike":
                    text += Self.wrapped(inline(children), in: "~~")
                case "code", "kbd", "samp":
                    let code = HTMLNodes.text(of: children)
                    text += code.isEmpty ? "" : "`\(code.replacingOccurrences(of: "`", with: "'"))`"
                case "sup", "sub":
                    text += "<\(name)>\(inline(children))</\(name)>"
                case "br":
                    text += "  \n"
                case "img":
                    if let source = attributes["src"] {
                        text += "![\(Self.escaped(attributes["alt"] ?? ""))](\(Self.target(relocateImage(source) ?? source)))"
                    }
                case "a":
                    let label = inline(children)
                    if let href = attributes["href"], Self.isLinkable(href), !label.trimmingCharacters(in: .whitespaces).isEmpty {
                        text += "[\(label)](\(Self.target(href)))"
                    } else {
                        text += label
                    }
                case "script", "style", "form", "button", "input", "select", "textarea", "noscript", "template", "svg":
                    dropped.append("<\(name)>")
                case "iframe", "video", "audio", "embed":
                    if let source = attributes["src"], let link = Self.link(to: source) { text += link }
                default:
                    text += inline(children)
                }
            }
        }
        return text
    }

    static func escaped(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "\\", "*", "_", "`", "[", "]", "#": output += "\\\(character)"
            case "<": output += "&lt;"
            default: output.append(character)
            }
        }
        return output
    }

    private static func collapsed(_ text: String) -> String {
        var output = ""
        var lastWasSpace = false
        for character in text {
            if character.isWhitespace && character != "\u{00A0}" {
                if !lastWasSpace { output += " " }
                lastWasSpace = true
            } else {
                output.append(character)
                lastWasSpace = false
            }
        }
        return output
    }

    private static func wrapped(_ text: String, in marker: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return text }
        let leading = text.hasPrefix(" ") ? " " : "", trailing = text.hasSuffix(" ") ? " " : ""
        return leading + marker + trimmed + marker + trailing
    }

    /// An address as a Markdown link target: nothing in it can end the target early.
    private static func target(_ address: String) -> String {
        var output = ""
        for scalar in address.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars {
            switch scalar {
            case " ", "(", ")", "<", ">", "\n", "\r", "\t", "\"": output += String(format: "%%%02X", scalar.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    private static func isLinkable(_ href: String) -> Bool {
        let lowered = href.lowercased()
        return lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered.hasPrefix("mailto:") || lowered.hasPrefix("/") || lowered.hasPrefix("#")
    }

    private static func isImageFile(_ href: String) -> Bool {
        let lowered = href.lowercased()
        return [".jpg", ".jpeg", ".png", ".gif", ".webp"].contains { lowered.hasSuffix($0) }
    }

    /// A player's address as a link on its own line; protocol-relative addresses get https.
    private static func link(to address: String) -> String? {
        let source = address.hasPrefix("//") ? "https:" + address : address
        guard !source.contains(" "), let url = URL(string: source), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return nil }
        return "[\(escaped(source))](\(source))"
    }
}
