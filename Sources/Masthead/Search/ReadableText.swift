/// The readable text at the start of an HTML fragment, for a search result's snippet: tags
/// dropped, blocks parted by a blank line, the character references the Markdown renderer
/// writes decoded. One pass over the UTF-8 bytes that stops at `limit` characters (Unicode
/// scalars, block breaks included): a snippet needs the first pages of a long report, and a
/// search page makes one per result.
enum ReadableText {
    private static let blockEnds: Set<[UInt8]> = Set(
        ["/p", "/h1", "/h2", "/h3", "/h4", "/h5", "/h6", "/li", "/blockquote", "/pre", "/tr", "/table", "/ul", "/ol", "br", "hr", "/figcaption"]
            .map { Array($0.utf8) }
    )
    private static let references: [[UInt8]: [UInt8]] = Dictionary(uniqueKeysWithValues: [
        ("lt", "<"), ("gt", ">"), ("quot", "\""), ("#39", "'"), ("#x27", "'"), ("nbsp", "\u{00A0}"), ("amp", "&"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) })
    private static let longestTagName = 12
    private static let longestReference = 8

    static func prefix(of html: String, limit: Int) -> String {
        var html = html
        return html.withUTF8 { bytes in
            var text: [UInt8] = []
            text.reserveCapacity(min(bytes.count, 4 * limit))
            var count = 0
            var inTag = false, tagName: [UInt8] = [], tagNameDone = false
            var reference: [UInt8]?
            var pendingBreak = false
            func emit(_ scalar: some Collection<UInt8>) {
                let isSpace = isWhitespace(scalar)
                if pendingBreak {
                    guard !isSpace else { return }
                    if count > 0 {
                        text.append(contentsOf: [0x0A, 0x0A])
                        count += 2
                    }
                    pendingBreak = false
                } else if isSpace, count == 0 {
                    return
                }
                text.append(contentsOf: scalar)
                count += 1
            }
            func emitUnknown(_ name: [UInt8]) {
                emit(CollectionOfOne(UInt8(ascii: "&")))
                for byte in name { emit(CollectionOfOne(byte)) }
            }
            var index = 0
            while index < bytes.count, count < limit {
                let byte = bytes[index]
                let end = min(bytes.count, index + (byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2))
                let scalar = bytes[index..<end]
                index = end
                if inTag {
                    if byte == UInt8(ascii: ">") {
                        inTag = false
                        if blockEnds.contains(tagName) { pendingBreak = true }
                    } else if !tagNameDone {
                        if isWhitespace(scalar) || (byte == UInt8(ascii: "/") && !tagName.isEmpty) {
                            tagNameDone = true
                        } else if tagName.count < longestTagName {
                            // A letter outside ASCII names no block this looks for.
                            tagName.append(byte < 0x80 ? lowercased(byte) : 0xFF)
                        }
                    }
                    continue
                }
                if var name = reference {
                    if byte == UInt8(ascii: ";") {
                        reference = nil
                        if let decoded = references[name] {
                            emit(decoded)
                        } else {
                            emitUnknown(name)
                            emit(CollectionOfOne(byte))
                        }
                        continue
                    }
                    if name.count < longestReference, byte == UInt8(ascii: "#") || isASCIILetterOrDigit(byte) {
                        name.append(byte)
                        reference = name
                        continue
                    }
                    reference = nil
                    emitUnknown(name)
                }
                switch byte {
                case UInt8(ascii: "<"):
                    inTag = true
                    tagName.removeAll(keepingCapacity: true)
                    tagNameDone = false
                case UInt8(ascii: "&"): reference = []
                default: emit(scalar)
                }
            }
            if let name = reference, count < limit { emitUnknown(name) }
            return String(decoding: text, as: UTF8.self)
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
        let lower = lowercased(byte)
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// Unicode's White_Space (a fixed list: U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028,
    /// U+2029, U+202F, U+205F, U+3000), for one scalar's UTF-8 bytes.
    private static func isWhitespace(_ scalar: some Collection<UInt8>) -> Bool {
        guard let first = scalar.first else { return false }
        if first < 0x80 { return first == 0x20 || (0x09...0x0D).contains(first) }
        // Every other White_Space scalar begins with one of these bytes: Arabic letters (D8 to DB) never do.
        guard first == 0xC2 || first == 0xE1 || first == 0xE2 || first == 0xE3 else { return false }
        var value = UInt32(first) & (scalar.count == 2 ? 0x1F : scalar.count == 3 ? 0x0F : 0x07)
        for continuation in scalar.dropFirst() { value = value << 6 | UInt32(continuation & 0x3F) }
        switch value {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }
}
