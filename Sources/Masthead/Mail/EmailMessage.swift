import Foundation
import Synchronization

/// An email as Masthead sends it: RFC 5322 headers, and a MIME multipart/alternative body
/// (RFC 2046) with a plain-text part first and an HTML part, both UTF-8.
public struct EmailMessage: Sendable {
    public struct Address: Sendable, Equatable {
        public let email: String
        public let name: String?

        public init(email: String, name: String? = nil) {
            self.email = email
            self.name = name
        }

        /// `"Name" <email>`, with a non-ASCII name as an RFC 2047 encoded word.
        var header: String {
            guard let name, !name.isEmpty else { return "<\(email)>" }
            return "\(MIME.encodedPhrase(name)) <\(email)>"
        }
    }

    public let from: Address
    public let to: Address
    public let subject: String
    public let text: String
    public let html: String
    public var extraHeaders: [(String, String)]
    public let messageID: String
    public let date: Date

    /// A message with a new `Message-ID`, or the one it was first given (a message sent again
    /// from the outbox keeps its id, so a receiver that got it twice can tell).
    public init(
        from: Address, to: Address, subject: String, text: String, html: String,
        extraHeaders: [(String, String)] = [], date: Date = Date(), messageID: String? = nil
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.extraHeaders = extraHeaders
        self.date = date
        let domain = from.email.split(separator: "@").last.map(String.init) ?? "masthead.invalid"
        self.messageID = messageID ?? "<\(UUID().uuidString.lowercased())@\(domain)>"
    }

    /// The message in wire form, lines ending in CRLF, every line under 998 octets (RFC 5322 §2.1.1).
    public func rendered() -> String {
        String(decoding: wireBytes(), as: UTF8.self)
    }

    /// The same, as bytes, built in one buffer: a newsletter is rendered once per recipient, and
    /// a string per line of base64, joined afterwards, was much of what sending one cost.
    func wireBytes() -> [UInt8] {
        let boundary = "=_masthead_" + MIME.randomToken()
        var headers: [(String, String)] = [
            ("Date", MIME.date(date)),
            ("From", from.header),
            ("To", to.header),
            ("Subject", MIME.encodedText(subject)),
            ("Message-ID", messageID),
            ("MIME-Version", "1.0"),
        ]
        headers += extraHeaders
        headers.append(("Content-Type", "multipart/alternative; boundary=\"\(boundary)\""))
        var wire: [UInt8] = []
        wire.reserveCapacity((text.utf8.count + html.utf8.count) * 4 / 3 + 2048)
        func line(_ text: String) {
            wire.append(contentsOf: text.utf8)
            wire.append(contentsOf: MIME.lineBreak)
        }
        for (name, value) in headers { line("\(name): \(value)") }
        line("")
        line("This is a multi-part message in MIME format.")
        for (type, content) in [("text/plain", text), ("text/html", html)] {
            line("--\(boundary)")
            line("Content-Type: \(type); charset=utf-8")
            line("Content-Transfer-Encoding: base64")
            line("")
            MIME.appendBase64Lines(of: content, to: &wire)
        }
        line("--\(boundary)--")
        return wire
    }
}

enum MIME {
    /// RFC 2047 encoded word for a header's free text, only when it is not plain ASCII.
    static func encodedText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII || $0.value < 32 }) else { return text }
        // Encoded words are at most 75 characters (RFC 2047 §2): split the UTF-8 bytes on
        // character boundaries into chunks that stay under the limit once base64-encoded.
        var words: [String] = []
        var chunk = Data()
        for character in text {
            let bytes = Data(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// A display name: encoded if it needs to be, else quoted.
    static func encodedPhrase(_ text: String) -> String {
        let encoded = encodedText(text)
        guard encoded == text else { return encoded }
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return "\"\(text)\"" }
        return "\"\(text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
    }

    static let lineBreak: [UInt8] = [0x0D, 0x0A]

    /// Base64 in lines of 76 (RFC 2045 §6.8), cut by bytes: walking a String's characters from
    /// its start for every line made a newsletter's body cost more than the rest of sending it.
    static func base64Lines(_ data: Data) -> [String] {
        let encoded = Array(data.base64EncodedData())
        return stride(from: 0, to: encoded.count, by: 76).map { offset in
            String(decoding: encoded[offset..<min(offset + 76, encoded.count)], as: UTF8.self)
        }
    }

    /// The same lines, each ended by CRLF, written straight into a message being built.
    static func appendBase64Lines(of text: String, to wire: inout [UInt8]) {
        let encoded = Data(text.utf8).base64EncodedData()
        encoded.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + 76, bytes.count)
                wire.append(contentsOf: bytes[offset..<end])
                wire.append(contentsOf: lineBreak)
                offset = end
            }
        }
    }

    /// 32 random hexadecimal digits, for MIME boundaries.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = String(generator.next() as UInt64, radix: 16), low = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    /// The last second formatted: a newsletter's copies go out many a second, and formatting a
    /// date was a tenth of building one.
    private static let lastDate = Mutex<(second: Int64, text: String)?>(nil)

    /// RFC 5322 §3.3 date-time, in UTC.
    static func date(_ date: Date) -> String {
        let second = Int64(date.timeIntervalSince1970.rounded(.down))
        if let cached = lastDate.withLock({ $0 }), cached.second == second { return cached.text }
        let text = formatted(Date(timeIntervalSince1970: TimeInterval(second)))
        lastDate.withLock { $0 = (second, text) }
        return text
    }

    private static func formatted(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
                locale: Locale(identifier: "en_US_POSIX"), timeZone: .gmt, calendar: Calendar(identifier: .gregorian)
            )
        )
    }
}
