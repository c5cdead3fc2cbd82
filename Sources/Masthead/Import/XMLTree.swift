import Foundation

/// An XML document read whole into elements, enough for the exports other platforms write
/// (WordPress's WXR): elements, attributes, text and CDATA, the five named entities and
/// numeric references. Document type declarations are skipped and never expanded, so a file
/// cannot define entities that read local files or multiply into gigabytes.
struct XMLElement: Sendable {
    let name: String
    var attributes: [String: String] = [:]
    var children: [XMLElement] = []
    var text = ""

    func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    func children(_ name: String) -> [XMLElement] {
        children.filter { $0.name == name }
    }

    /// The text of the first child of that name, trimmed; empty when there is none.
    func value(_ name: String) -> String {
        child(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}

struct XMLSyntaxError: Error, CustomStringConvertible {
    let line: Int
    let reason: String
    var description: String { "line \(line): \(reason)" }
}

enum XMLTree {
    static func parse(_ data: Data) throws -> XMLElement {
        var reader = Reader(bytes: Array(data))
        return try reader.document()
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) {
            // A byte order mark is allowed before the declaration.
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        }

        mutating func document() throws -> XMLElement {
            var root: XMLElement?
            var stack: [XMLElement] = []
            while position < bytes.count {
                if bytes[position] != UInt8(ascii: "<") {
                    let text = try readText()
                    if stack.isEmpty {
                        guard text.allSatisfy(\.isWhitespace) else { throw failure("text outside the root element") }
                    } else {
                        stack[stack.count - 1].text += text
                    }
                    continue
                }
                if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<![CDATA[") {
                    position += 9
                    let start = position
                    try skip(past: "]]>")
                    guard !stack.isEmpty else { throw failure("CDATA outside the root element") }
                    stack[stack.count - 1].text += String(decoding: bytes[start..<(position - 3)], as: UTF8.self)
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else if starts(with: "<!") {
                    try skipDeclaration()
                } else if starts(with: "</") {
                    position += 2
                    let name = readName()
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else { throw failure("a closing tag </\(name) is not finished") }
                    position += 1
                    guard let open = stack.popLast() else { throw failure("</\(name)> closes nothing") }
                    guard open.name == name else { throw failure("</\(name)> found where </\(open.name)> was expected") }
                    if stack.isEmpty {
                        guard root == nil else { throw failure("a second root element") }
                        root = open
                    } else {
                        stack[stack.count - 1].children.append(open)
                    }
                } else {
                    position += 1
                    let (element, selfClosing) = try readStartTag()
                    if selfClosing {
                        if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
                    } else {
                        guard stack.count < 64 else { throw failure("elements are nested more than 64 deep, which no export does") }
                        stack.append(element)
                    }
                }
            }
            if let open = stack.last { throw failure("the file ends inside <\(open.name)>: it is cut short") }
            guard let root else { throw failure("there is no root element") }
            return root
        }

        private mutating func readStartTag() throws -> (XMLElement, Bool) {
            let name = readName()
            guard !name.isEmpty else { throw failure("a '<' that starts no tag") }
            var element = XMLElement(name: name)
            while true {
                skipSpace()
                guard position < bytes.count else { throw failure("the tag <\(name) is not finished") }
                if bytes[position] == UInt8(ascii: ">") {
                    position += 1
                    return (element, false)
                }
                if starts(with: "/>") {
                    position += 2
                    return (element, true)
                }
                let attribute = readName()
                guard !attribute.isEmpty else { throw failure("an unexpected character in the tag <\(name)>") }
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else { throw failure("the attribute \(attribute) of <\(name)> has no value") }
                position += 1
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") else {
                    throw failure("the value of \(attribute) in <\(name)> is not quoted")
                }
                let quote = bytes[position]
                position += 1
                let start = position
                while position < bytes.count, bytes[position] != quote { position += 1 }
                guard position < bytes.count else { throw failure("the value of \(attribute) in <\(name)> is not closed") }
                element.attributes[attribute] = try decoded(String(decoding: bytes[start..<position], as: UTF8.self))
                position += 1
            }
        }

        private mutating func readText() throws -> String {
            let start = position
            while position < bytes.count, bytes[position] != UInt8(ascii: "<") { position += 1 }
            return try decoded(String(decoding: bytes[start..<position], as: UTF8.self))
        }

        private func decoded(_ text: String) throws -> String {
            guard let decoded = Self.decodeReferences(text) else { throw failure("an unknown entity or a bare '&' (write &amp;)") }
            return decoded
        }

        private mutating func readName() -> String {
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                let isNameByte = byte >= 0x80 || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                guard isNameByte else { break }
                position += 1
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        private mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        /// `<!DOCTYPE …>`, with any internal subset in brackets: skipped, never expanded.
        private mutating func skipDeclaration() throws {
            var depth = 0
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "]"): depth -= 1
                case UInt8(ascii: ">") where depth <= 0:
                    position += 1
                    return
                default: break
                }
                position += 1
            }
            throw failure("a declaration is not finished")
        }

        private func starts(with text: String) -> Bool {
            let pattern = Array(text.utf8)
            return position + pattern.count <= bytes.count && bytes[position..<(position + pattern.count)].elementsEqual(pattern)
        }

        private mutating func skip(past end: String) throws {
            let pattern = Array(end.utf8)
            while position + pattern.count <= bytes.count {
                if bytes[position..<(position + pattern.count)].elementsEqual(pattern) {
                    position += pattern.count
                    return
                }
                position += 1
            }
            throw failure("the file ends before \(end)")
        }

        private var line: Int {
            bytes[0..<min(position, bytes.count)].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        }

        private func failure(_ reason: String) -> XMLSyntaxError {
            XMLSyntaxError(line: line, reason: reason)
        }

        private static let named: [String: String] = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]

        /// Nil when a reference is unknown or an '&' stands alone.
        static func decodeReferences(_ text: String) -> String? {
            guard text.contains("&") else { return text }
            var output = ""
            var rest = text[...]
            while let ampersand = rest.firstIndex(of: "&") {
                output += rest[..<ampersand]
                rest = rest[rest.index(after: ampersand)...]
                guard let semicolon = rest.prefix(12).firstIndex(of: ";") else { return nil }
                let name = String(rest[..<semicolon])
                rest = rest[rest.index(after: semicolon)...]
                if let replacement = named[name] {
                    output += replacement
                } else if name.hasPrefix("#"), let value = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16) : UInt32(name.dropFirst()),
                          value != 0, let scalar = Unicode.Scalar(value) {
                    output.unicodeScalars.append(scalar)
                } else {
                    return nil
                }
            }
            return output + rest
        }
    }
}
