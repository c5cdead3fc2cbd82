/// Text that goes into a mail header, or a report's one line: no line breaks or other control
/// characters (C0 and C1), but every format character a script needs, such as Persian's
/// zero-width non-joiner, which Foundation's `controlCharacters` would also take out.
enum HeaderText {
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    static func oneLine(_ text: String, limit: Int) -> String {
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: text.unicodeScalars.filter { !isControl($0) })
        return String(String(kept).prefix(limit))
    }
}
