import Foundation

/// The one normalisation of words for search, applied alike to what is indexed and to what a
/// reader types, so that spelling variants meet in one form:
/// - every script: compatibility forms unfolded (presentation forms, ligatures), case folded,
///   combining marks dropped: Latin diacritics (`Süleymani` = `suleymani`), Arabic tashkeel,
///   and the hamza that sits on alef, waw and yeh (`أ إ آ` = `ا`, `ؤ` = `و`, `ئ` = `ي`);
/// - Arabic: tatweel dropped, `ى` = `ي`, `ة` = `ه`, the definite article and its attached
///   prepositions taken off (`والحشد` = `الحشد` = `حشد`);
/// - Persian: `ی` = `ي`, `ک` = `ك`, the zero-width non-joiner dropped (`می‌خواهد` = `میخواهد`);
/// - Turkish: dotted and dotless i are one letter in every case (`İ I ı i`);
/// - digits of every script are ASCII digits.
enum SearchText {
    struct Word {
        let range: Range<String.Index>
        let token: String
    }

    /// The words of `text` as the index holds them.
    static func tokens(_ text: String) -> [String] {
        words(text).map(\.token)
    }

    /// The tokens of `text` joined by spaces: the form handed to either database's full-text
    /// parser, which then only has to split on spaces.
    static func indexable(_ text: String) -> String {
        indexableWords(of: text, markup: false)
    }

    /// The words of an HTML fragment in indexable form: tags and character references part
    /// words, and no regular expression or intermediate text is needed (a full reindex reads
    /// every article's body).
    static func indexable(html: String) -> String {
        indexableWords(of: html, markup: true)
    }

    /// One pass over the UTF-8 bytes. ASCII letters and digits, most of an English archive,
    /// are lowered and copied byte by byte; only a word with other letters in it is made a
    /// `String` and folded by `normalize(word:)`. The result is `tokens(text)` joined by spaces.
    private static func indexableWords(of text: String, markup: Bool) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            var word: [UInt8] = []
            var wordIsASCII = true
            var inTag = false, inReference = false
            func flush() {
                guard !word.isEmpty else { return }
                if wordIsASCII {
                    if !output.isEmpty { output.append(0x20) }
                    output.append(contentsOf: word.prefix(longestToken))
                } else if let token = normalize(word: String(decoding: word, as: UTF8.self)) {
                    if !output.isEmpty { output.append(0x20) }
                    output.append(contentsOf: token.utf8)
                }
                word.removeAll(keepingCapacity: true)
                wordIsASCII = true
            }
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                guard byte >= 0x80 else {
                    index += 1
                    if inTag {
                        if byte == UInt8(ascii: ">") { inTag = false }
                        continue
                    }
                    if inReference {
                        if byte == UInt8(ascii: ";") { inReference = false; continue }
                        if byte == UInt8(ascii: "#") || isASCIILetterOrDigit(byte) { continue }
                        inReference = false
                    }
                    if markup, byte == UInt8(ascii: "<") {
                        flush()
                        inTag = true
                    } else if markup, byte == UInt8(ascii: "&") {
                        flush()
                        inReference = true
                    } else if isASCIILetterOrDigit(byte) {
                        word.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
                    } else {
                        flush()
                    }
                    continue
                }
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                let end = min(index + length, bytes.count)
                defer { index = end }
                if inTag { continue }
                inReference = false
                var value = UInt32(byte) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                for continuation in bytes[(index + 1)..<end] { value = value << 6 | UInt32(continuation & 0x3F) }
                if let scalar = Unicode.Scalar(value), isWordScalar(scalar) {
                    word.append(contentsOf: bytes[index..<end])
                    wordIsASCII = false
                } else {
                    flush()
                }
            }
            flush()
            return String(decoding: output, as: UTF8.self)
        }
    }

    private static func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// Each word of `text` with its place in the original, for highlighting what matched.
    static func words(_ text: String) -> [Word] {
        var words: [Word] = []
        forEachWord(in: text) { word in
            words.append(word)
            return true
        }
        return words
    }

    /// Hands each word of `text` to `body` in order, until `body` returns false: a snippet
    /// stops reading once it has found its passage. One pass over the UTF-8 bytes, as for
    /// indexing: a word of ASCII letters is lowered byte by byte, and only another is folded
    /// by `normalize(word:)`.
    static func forEachWord(in text: String, _ body: (Word) -> Bool) {
        var bytesOfText = text
        bytesOfText.withUTF8 { bytes in
            let utf8 = text.utf8
            var start: Int?
            var wordIsASCII = true
            var lowered: [UInt8] = []
            // The word from `start` to `end`, or false when `body` wants no more.
            func handOver(_ end: Int) -> Bool {
                guard let wordStart = start else { return true }
                defer {
                    start = nil
                    wordIsASCII = true
                    lowered.removeAll(keepingCapacity: true)
                }
                let range = utf8.index(utf8.startIndex, offsetBy: wordStart)..<utf8.index(utf8.startIndex, offsetBy: end)
                let token = wordIsASCII ? String(decoding: lowered.prefix(longestToken), as: UTF8.self) : normalize(word: text[range])
                guard let token, !token.isEmpty else { return true }
                return body(Word(range: range, token: token))
            }
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte < 0x80 {
                    if isASCIILetterOrDigit(byte) {
                        if start == nil { start = index }
                        lowered.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
                    } else {
                        guard handOver(index) else { return }
                    }
                    index += 1
                    continue
                }
                let end = min(index + (byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2), bytes.count)
                var value = UInt32(byte) & (end - index == 2 ? 0x1F : end - index == 3 ? 0x0F : 0x07)
                for continuation in bytes[(index + 1)..<end] { value = value << 6 | UInt32(continuation & 0x3F) }
                if let scalar = Unicode.Scalar(value), isWordScalar(scalar) {
                    if start == nil { start = index }
                    wordIsASCII = false
                } else {
                    guard handOver(index) else { return }
                }
                index = end
            }
            _ = handOver(bytes.count)
        }
    }

    /// The indexed form of one word, or nil when nothing searchable is left of it.
    static func normalize(word: some StringProtocol) -> String? {
        if word.utf8.allSatisfy({ $0 < 0x80 }) {
            // Most words of an English archive: nothing to decompose or fold but case.
            let lowered = word.prefix(longestToken).lowercased()
            return lowered.isEmpty ? nil : lowered
        }
        if let arabic = foldedArabicScript(word) { return arabic.isEmpty ? nil : withoutArabicArticle(arabic) }
        if let latin = foldedLatinScript(word) { return latin.isEmpty ? nil : latin }
        return decomposedFold(word)
    }

    /// The general folding, through Foundation's compatibility decomposition: for words in
    /// any script, and the reference the fast paths are tested against.
    static func decomposedFold(_ word: some StringProtocol) -> String? {
        var folded = String.UnicodeScalarView()
        for scalar in String(word).decomposedStringWithCompatibilityMapping.unicodeScalars {
            if let digit = asciiDigit(scalar) {
                folded.append(digit)
                continue
            }
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .spacingMark, .format: continue
            default: break
            }
            if scalar == tatweel { continue }
            if let replacement = letterFolds[scalar] {
                folded.append(contentsOf: replacement.unicodeScalars)
                continue
            }
            folded.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        }
        guard !folded.isEmpty else { return nil }
        if folded.count > longestToken { folded = String.UnicodeScalarView(folded.prefix(longestToken)) }
        return withoutArabicArticle(String(folded))
    }

    /// The same folding for a word wholly in the Arabic block (Arabic, Persian), without
    /// Foundation's decomposition, which costs more than the rest of indexing together; nil
    /// for any other word. Each letter is looked up in `arabicBlock`.
    private static func foldedArabicScript(_ word: some StringProtocol) -> String? {
        var folded = String.UnicodeScalarView()
        var count = 0
        for scalar in word.unicodeScalars {
            switch scalar.value {
            case 0x0600...0x06FF:
                if count < longestToken, let kept = arabicBlock[Int(scalar.value - 0x0600)] {
                    folded.append(kept)
                    count += 1
                }
            case 0x200C, 0x200D:
                continue
            default:
                return nil
            }
        }
        return String(folded)
    }

    /// The same folding for a word of Latin letters with diacritics (Turkish, French, German:
    /// up to U+024F), each letter looked up in `latinBlock`; nil for any other word.
    private static func foldedLatinScript(_ word: some StringProtocol) -> String? {
        var folded = String.UnicodeScalarView()
        var count = 0
        for scalar in word.unicodeScalars {
            guard scalar.value <= latinBlockEnd else { return nil }
            for kept in latinBlock[Int(scalar.value)] where count < longestToken {
                folded.append(kept)
                count += 1
            }
        }
        return String(folded)
    }

    private static let latinBlockEnd: UInt32 = 0x024F

    /// What each scalar up to U+024F folds to by the general rules, worked out once.
    private static let latinBlock: [[Unicode.Scalar]] = (0...Int(latinBlockEnd)).map { value in
        let scalar = Unicode.Scalar(UInt32(value))!
        return Array((decomposedFold(String(scalar)) ?? "").unicodeScalars)
    }

    /// What each letter of the Arabic block (U+0600 to U+06FF) folds to, nil for those dropped
    /// (marks, tatweel, format characters): the general rules, worked out once. The hamza and
    /// madda forms decompose to their carrier letters.
    private static let arabicBlock: [Unicode.Scalar?] = (0x0600...0x06FF).map { value in
        let scalar = Unicode.Scalar(UInt32(value))!
        if let digit = asciiDigit(scalar) { return digit }
        if let carrier = hamzaCarriers[scalar] { return carrier }
        if let replacement = letterFolds[scalar] { return replacement.unicodeScalars.first }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .format: return nil
        default: return scalar == tatweel ? nil : scalar
        }
    }

    private static let hamzaCarriers: [Unicode.Scalar: Unicode.Scalar] = [
        "\u{0622}": "\u{0627}", "\u{0623}": "\u{0627}", "\u{0625}": "\u{0627}", "\u{0624}": "\u{0648}", "\u{0626}": "\u{064A}",
        "\u{06C0}": "\u{0647}", "\u{06C2}": "\u{0647}", "\u{06D3}": "\u{064A}",
    ]

    /// Letters, digits and the marks within words; the joiners Persian and Arabic write inside
    /// a word (ZWNJ, ZWJ) keep it one word.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return isASCIILetterOrDigit(UInt8(scalar.value)) }
        if scalar == zeroWidthNonJoiner || scalar == zeroWidthJoiner { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }

    private static func asciiDigit(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        guard scalar.properties.numericType == .decimal, let value = scalar.properties.numericValue,
              value >= 0, value <= 9
        else { return nil }
        return Unicode.Scalar(UInt8(48 + Int(value)))
    }

    /// Longer runs of letters are not words anyone searches for (a pasted address, a Korean
    /// syllable built of thousands of jamo): they are cut, alike in articles and in queries.
    static let longestToken = 64

    private static let tatweel: Unicode.Scalar = "\u{0640}"
    private static let zeroWidthNonJoiner: Unicode.Scalar = "\u{200C}"
    private static let zeroWidthJoiner: Unicode.Scalar = "\u{200D}"

    /// Letters that no decomposition relates but readers use interchangeably.
    private static let letterFolds: [Unicode.Scalar: String] = [
        "\u{0131}": "i",       // dotless ı (its capital, I, lower-cases to i)
        "\u{0671}": "\u{0627}", // alef wasla
        "\u{0649}": "\u{064A}", // alef maksura
        "\u{06CC}": "\u{064A}", // Persian yeh
        "\u{06D2}": "\u{064A}", // yeh barree
        "\u{06A9}": "\u{0643}", // Persian keheh
        "\u{0629}": "\u{0647}", // teh marbuta
        "\u{06D5}": "\u{0647}", // ae, which heh with yeh (ۀ) decomposes to
        "\u{06C1}": "\u{0647}", // heh goal
        "\u{00DF}": "ss", "\u{00F8}": "o", "\u{00D8}": "o", "\u{0142}": "l", "\u{0141}": "l",
        "\u{0111}": "d", "\u{0110}": "d", "\u{00E6}": "ae", "\u{00C6}": "ae", "\u{0153}": "oe", "\u{0152}": "oe",
    ]

    /// Arabic joins the article and some prepositions to the noun; readers search for the noun.
    /// The longest prefix goes first, and a short word keeps its letters.
    private static let arabicArticles: [[Unicode.Scalar]] = ["\u{0648}\u{0627}\u{0644}", "\u{0628}\u{0627}\u{0644}", "\u{0643}\u{0627}\u{0644}", "\u{0641}\u{0627}\u{0644}", "\u{0644}\u{0644}", "\u{0627}\u{0644}"]
        .map { Array($0.unicodeScalars) }

    /// Compared letter by letter: the token is already folded, so no other spelling of the
    /// article can be left to find.
    private static func withoutArabicArticle(_ token: String, shortestRest: Int = 3) -> String {
        let scalars = token.unicodeScalars
        for article in arabicArticles where scalars.starts(with: article) {
            let rest = scalars.dropFirst(article.count)
            if rest.count >= shortestRest { return String(String.UnicodeScalarView(rest)) }
        }
        return token
    }

    /// A word still being typed without the Arabic article it begins with, once two letters
    /// follow it (a whole word keeps its article with fewer than three).
    static func prefixWithoutArticle(_ token: String) -> String {
        withoutArabicArticle(token, shortestRest: 2)
    }
}
