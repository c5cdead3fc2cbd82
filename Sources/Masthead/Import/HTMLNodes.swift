import Foundation

/// A forgiving reading of an HTML fragment into a tree, as browsers would read it for the
/// markup editors produce: void elements, paragraphs and list items closed by what follows
/// them, stray closing tags ignored, comments (the block editor's included) dropped but for
/// Ghost's paywall mark.
enum HTMLNodes {
    indirect enum Node {
        case text(String)
        case element(String, [String: String], [Node])
    }

    struct Element {
        let name: String
        let attributes: [String: String]
        let children: [Node]
    }

    /// Deeper markup is flattened into its ancestor at this depth: real posts nest a few
    /// levels, and the conversion recurses once per level.
    static let maximumDepth = 100

    private static let void: Set<String> = ["img", "br", "hr", "input", "source", "meta", "link", "embed", "wbr", "area", "col", "track", "param"]
    private static let rawText: Set<String> = ["script", "style", "textarea", "title"]
    private static let closesParagraph: Set<String> = [
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "figure", "table", "pre", "hr", "section", "dl", "form",
    ]

    /// Stands where the old platform put its paywall (Ghost's `<!--members-only-->`).
    static let paywallElement = "masthead-paywall"

    static func parse(_ html: String) -> [Node] {
        var stack: [(name: String, attributes: [String: String], children: [Node])] = [("", [:], [])]
        func close(through index: Int) {
            while stack.count > index {
                let open = stack.removeLast()
                stack[stack.count - 1].children.append(.element(open.name, open.attributes, open.children))
            }
        }
        func openIndex(of name: String, stoppingAt barriers: Set<String> = []) -> Int? {
            for index in stride(from: stack.count - 1, through: 1, by: -1) {
                if stack[index].name == name { return index }
                if barriers.contains(stack[index].name) { return nil }
            }
            return nil
        }

        var rest = html[...]
        var text = ""
        func flushText() {
            if !text.isEmpty { stack[stack.count - 1].children.append(.text(decode(text))) }
            text = ""
        }
        while let open = rest.firstIndex(of: "<") {
            text += rest[..<open]
            rest = rest[open...]
            if rest.hasPrefix("<!--") {
                flushText()
                // `<!-->` and `<!--->` are whole (empty) comments too.
                let body = rest.index(rest.startIndex, offsetBy: 4)
                let end = rest.hasPrefix("<!-->") || rest.hasPrefix("<!--->")
                    ? rest.range(of: ">")
                    : rest[body...].range(of: "-->")
                // Ghost marks where its paywall falls with a comment.
                if let end, end.lowerBound >= body, rest[body..<end.lowerBound].trimmingCharacters(in: .whitespaces) == "members-only" {
                    stack[stack.count - 1].children.append(.element(paywallElement, [:], []))
                }
                rest = end.map { rest[$0.upperBound...] } ?? ""
                continue
            }
            if rest.hasPrefix("<!") || rest.hasPrefix("<?") {
                rest = rest.firstIndex(of: ">").map { rest[rest.index(after: $0)...] } ?? ""
                continue
            }
            guard let tag = Tag(rest) else {
                text += "<"
                rest = rest.dropFirst()
                continue
            }
            flushText()
            rest = rest.dropFirst(tag.length)
            if tag.closing {
                if let index = openIndex(of: tag.name, stoppingAt: tag.name == "li" ? ["ul", "ol"] : []) { close(through: index) }
                continue
            }
            if closesParagraph.contains(tag.name), let paragraph = openIndex(of: "p", stoppingAt: ["blockquote", "li", "figure", "div", "td", "th"]) {
                close(through: paragraph)
            }
            if tag.name == "li", let item = openIndex(of: "li", stoppingAt: ["ul", "ol"]) { close(through: item) }
            if ["td", "th", "tr"].contains(tag.name), let cell = openIndex(of: "td", stoppingAt: ["table"]) ?? openIndex(of: "th", stoppingAt: ["table"]) {
                close(through: cell)
            }
            if tag.name == "tr", let row = openIndex(of: "tr", stoppingAt: ["table"]) { close(through: row) }
            if void.contains(tag.name) || tag.selfClosing {
                stack[stack.count - 1].children.append(.element(tag.name, tag.attributes, []))
            } else if rawText.contains(tag.name) {
                let end = rest.range(of: "</\(tag.name)", options: .caseInsensitive)
                let content = end.map { String(rest[..<$0.lowerBound]) } ?? String(rest)
                stack[stack.count - 1].children.append(.element(tag.name, tag.attributes, [.text(content)]))
                rest = end.flatMap { found in rest[found.upperBound...].firstIndex(of: ">").map { rest[rest.index(after: $0)...] } } ?? ""
            } else if stack.count < maximumDepth {
                stack.append((tag.name, tag.attributes, []))
            }
        }
        text += rest
        flushText()
        close(through: 1)
        return stack[0].children
    }

    /// Every element below these nodes, depth first.
    static func elements(in nodes: [Node]) -> [Element] {
        nodes.flatMap { node -> [Element] in
            guard case .element(let name, let attributes, let children) = node else { return [] }
            return [Element(name: name, attributes: attributes, children: children)] + elements(in: children)
        }
    }

    static func text(of nodes: [Node]) -> String {
        nodes.map { node in
            switch node {
            case .text(let text): text
            case .element("br", _, _): "\n"
            case .element(_, _, let children): text(of: children)
            }
        }.joined()
    }

    private struct Tag {
        let name: String
        let closing: Bool
        let selfClosing: Bool
        let attributes: [String: String]
        let length: Int

        init?(_ text: Substring) {
            var index = text.index(after: text.startIndex)
            closing = index < text.endIndex && text[index] == "/"
            if closing { index = text.index(after: index) }
            let nameStart = index
            while index < text.endIndex, text[index].isLetter || text[index].isNumber || text[index] == "-" { index = text.index(after: index) }
            guard index > nameStart, text[nameStart].isLetter else { return nil }
            name = text[nameStart..<index].lowercased()
            var attributes: [String: String] = [:]
            var selfClosing = false
            while index < text.endIndex {
                let character = text[index]
                if character == ">" {
                    index = text.index(after: index)
                    break
                }
                if character == "/" {
                    selfClosing = true
                    index = text.index(after: index)
                    continue
                }
                if character.isWhitespace {
                    index = text.index(after: index)
                    continue
                }
                let keyStart = index
                while index < text.endIndex, !text[index].isWhitespace, !"=>/".contains(text[index]) { index = text.index(after: index) }
                let key = text[keyStart..<index].lowercased()
                while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
                var value = ""
                if index < text.endIndex, text[index] == "=" {
                    index = text.index(after: index)
                    while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
                    if index < text.endIndex, text[index] == "\"" || text[index] == "'" {
                        let quote = text[index]
                        index = text.index(after: index)
                        let valueStart = index
                        while index < text.endIndex, text[index] != quote { index = text.index(after: index) }
                        value = String(text[valueStart..<index])
                        if index < text.endIndex { index = text.index(after: index) }
                    } else {
                        let valueStart = index
                        while index < text.endIndex, !text[index].isWhitespace, text[index] != ">" { index = text.index(after: index) }
                        value = String(text[valueStart..<index])
                    }
                }
                if !key.isEmpty, attributes[key] == nil { attributes[key] = HTMLNodes.decode(value) }
            }
            self.attributes = attributes
            self.selfClosing = selfClosing
            length = text.distance(from: text.startIndex, to: index)
        }
    }

    private static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "hellip": "…", "mdash": "—", "ndash": "–",
        "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "laquo": "«", "raquo": "»", "copy": "©", "reg": "®", "deg": "°",
        "zwnj": "\u{200C}", "zwj": "\u{200D}", "rlm": "\u{200F}", "lrm": "\u{200E}", "shy": "\u{00AD}", "times": "×", "euro": "€", "pound": "£",
    ]

    /// Character references decoded; one that is not known stays as written.
    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = text[...]
        while let ampersand = rest.firstIndex(of: "&") {
            output += rest[..<ampersand]
            let after = rest[rest.index(after: ampersand)...]
            if let semicolon = after.prefix(10).firstIndex(of: ";") {
                let name = String(after[..<semicolon])
                var replacement: String?
                if let named = entities[name] {
                    replacement = named
                } else if name.hasPrefix("#") {
                    let number = name.dropFirst()
                    let value = number.first == "x" || number.first == "X" ? UInt32(number.dropFirst(), radix: 16) : UInt32(number)
                    replacement = value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
                if let replacement {
                    output += replacement
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            output += "&"
            rest = after
        }
        return output + rest
    }
}
