/// The readable text at the start of an HTML fragment, for a search result's snippet: tags
/// dropped, blocks parted by a blank line, the character references the Markdown renderer
/// writes decoded. One pass that stops at `limit` characters (Unicode scalars, block breaks
/// included): a snippet needs the first pages
/// of a long report, and a search page makes one per result.
enum ReadableText {
    private static let blockEnds: Set<String> = ["/p", "/h1", "/h2", "/h3", "/h4", "/h5", "/h6", "/li", "/blockquote", "/pre", "/tr", "/table", "/ul", "/ol", "br", "hr", "/figcaption"]
    private static let references: [String: Unicode.Scalar] = ["lt": "<", "gt": ">", "quot": "\"", "#39": "'", "#x27": "'", "nbsp": "\u{00A0}", "amp": "&"]

    static func prefix(of html: String, limit: Int) -> String {
        var text = String.UnicodeScalarView()
        var count = 0
        var inTag = false, tagName = String.UnicodeScalarView(), tagNameDone = false
        var reference: String.UnicodeScalarView?
        var pendingBreak = false
        func emit(_ scalar: Unicode.Scalar) {
            let isSpace = isWhitespace(scalar)
            if pendingBreak {
                guard !isSpace else { return }
                if count > 0 {
                    text.append(contentsOf: "\n\n".unicodeScalars)
                    count += 2
                }
                pendingBreak = false
            } else if isSpace, count == 0 {
                return
            }
            text.append(scalar)
            count += 1
        }
        for scalar in html.unicodeScalars {
            guard count < limit else { break }
            if inTag {
                if scalar == ">" {
                    inTag = false
                    if blockEnds.contains(String(tagName).lowercased()) { pendingBreak = true }
                } else if !tagNameDone {
                    if isWhitespace(scalar) || (scalar == "/" && !tagName.isEmpty) {
                        tagNameDone = true
                    } else if tagName.count < 12 {
                        tagName.append(scalar)
                    }
                }
                continue
            }
            if var name = reference {
                if scalar == ";" {
                    reference = nil
                    if let decoded = references[String(name)] {
                        emit(decoded)
                    } else {
                        emit("&")
                        name.forEach(emit)
                        emit(";")
                    }
                    continue
                }
                if name.count < 8, scalar == "#" || (scalar.isASCII && (scalar.properties.isAlphabetic || scalar.properties.numericType != nil)) {
                    name.append(scalar)
                    reference = name
                    continue
                }
                reference = nil
                emit("&")
                name.forEach(emit)
            }
            switch scalar {
            case "<":
                inTag = true
                tagName = String.UnicodeScalarView()
                tagNameDone = false
            case "&": reference = String.UnicodeScalarView()
            default: emit(scalar)
            }
        }
        if let name = reference, count < limit {
            emit("&")
            name.forEach(emit)
        }
        return String(text)
    }

    /// Unicode's White_Space, without its table for the ASCII most text is made of.
    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar == " " || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
    }
}
