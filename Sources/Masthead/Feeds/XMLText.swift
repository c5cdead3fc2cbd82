/// Text inside XML that Masthead writes by hand (feeds, sitemaps): markup characters escaped,
/// and the characters XML 1.0 forbids dropped (§2.2), so that one stray control character
/// pasted into a headline cannot make the whole feed unreadable.
enum XMLText {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                guard isAllowed(scalar) else { continue }
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// `<name attributes>escaped text</name>` on one line.
    static func element(_ name: String, _ text: String, _ attributes: [(String, String)] = []) -> String {
        "<\(name)\(attributeText(attributes))>\(escape(text))</\(name)>"
    }

    /// `<name attributes/>`.
    static func empty(_ name: String, _ attributes: [(String, String)]) -> String {
        "<\(name)\(attributeText(attributes))/>"
    }

    static func attributeText(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }
}
