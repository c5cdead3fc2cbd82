import Foundation

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
        let boundary = "=_masthead_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
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
        var lines = headers.map { "\($0.0): \($0.1)" }
        lines.append("")
        lines.append("This is a multi-part message in MIME format.")
        for (type, content) in [("text/plain", text), ("text/html", html)] {
            lines.append("--\(boundary)")
            lines.append("Content-Type: \(type); charset=utf-8")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            lines.append(contentsOf: MIME.base64Lines(Data(content.utf8)))
        }
        lines.append("--\(boundary)--")
        lines.append("")
        return lines.joined(separator: "\r\n")
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
        return "\"\(text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
    }

    /// Base64 in lines of 76 (RFC 2045 §6.8), cut by bytes: walking a String's characters from
    /// its start for every line made a newsletter's body cost more than the rest of sending it.
    static func base64Lines(_ data: Data) -> [String] {
        let encoded = Array(data.base64EncodedData())
        return stride(from: 0, to: encoded.count, by: 76).map { offset in
            String(decoding: encoded[offset..<min(offset + 76, encoded.count)], as: UTF8.self)
        }
    }

    /// RFC 5322 §3.3 date-time, in UTC.
    static func date(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
                locale: Locale(identifier: "en_US_POSIX"), timeZone: .gmt, calendar: Calendar(identifier: .gregorian)
            )
        )
    }
}
