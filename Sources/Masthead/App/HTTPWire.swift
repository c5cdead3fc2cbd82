import NIOCore
import NIOHTTP1

/// An answer made ready before the request came: a status and its header lines as bytes
/// (`Content-Length` among them when there is a body), so that sending it copies bytes and
/// builds nothing. The front server adds the lines that change per request: the status line,
/// `Date`, `Connection` and HSTS.
struct ReadyAnswer: Sendable {
    let status: HTTPResponseStatus
    /// Each line ends with CRLF; the blank line that ends the head is not included.
    let headerLines: ByteBuffer
    /// The representation's bytes: left out for HEAD and 304, as HTTP says.
    let body: ByteBuffer?
}

/// HTTP/1.1 message syntax (RFC 9112 §4 and §5) for what the front server writes itself,
/// past any encoder.
enum HTTPWire {
    /// The header fields as lines, each `name: value` and CRLF; nil when a field could not be
    /// sent as it is (RFC 9110 §5.1 and §5.5): a name that is not a token, or a value with a
    /// CR, LF or NUL, which would let whatever put it there write headers or a body of its own.
    static func lines(_ headers: HTTPHeaders) -> ByteBuffer? {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for (name, value) in headers {
            guard isToken(name), isFieldValue(value) else { return nil }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        return buffer
    }

    private static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    private static func isFieldValue(_ value: String) -> Bool {
        !value.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }
    }

    /// The status line: `HTTP/1.1 200 OK`, with the request's version when it was 1.0.
    static func writeStatusLine(_ status: HTTPResponseStatus, version: HTTPVersion, into buffer: inout ByteBuffer) {
        if version.major == 1, version.minor == 0 {
            buffer.writeStaticString("HTTP/1.0 ")
        } else {
            buffer.writeStaticString("HTTP/1.1 ")
        }
        switch status {
        case .ok: buffer.writeStaticString("200 OK\r\n")
        case .notModified: buffer.writeStaticString("304 Not Modified\r\n")
        default:
            buffer.writeString(String(status.code))
            buffer.writeStaticString(" ")
            buffer.writeString(status.reasonPhrase)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The interim answer RFC 9110 §15.2.1 tells a client waiting to send its body.
    static func continueLine(version: HTTPVersion) -> ByteBuffer {
        var buffer = ByteBuffer()
        writeStatusLine(.continue, version: version, into: &buffer)
        buffer.writeStaticString("\r\n")
        return buffer
    }
}

extension HTTPWire {
    /// Whether a field name is the given lowercase name, compared as HTTP does, without case.
    static func name(_ name: String, is lowercase: StaticString) -> Bool {
        equalsIgnoringCase(Substring(name).utf8, lowercase)
    }

    /// ASCII bytes equal to a lowercase constant, whatever their case.
    static func equalsIgnoringCase(_ bytes: Substring.UTF8View, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { byte, wanted in
                byte == wanted || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && byte + 32 == wanted)
            }
        }
    }

    /// Without the optional whitespace (spaces and tabs) around a list item or parameter.
    static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start = bytes.index(after: start) }
        while end > start, isSpace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return bytes[start..<end]
    }

    /// The items of a comma- or semicolon-separated list, trimmed, one at a time.
    static func forEachItem(in bytes: Substring.UTF8View, separatedBy separator: UInt8, _ body: (Substring.UTF8View) -> Bool) -> Bool {
        var rest = bytes
        while !rest.isEmpty {
            let item = rest.prefix { $0 != separator }
            rest = rest.dropFirst(item.count + 1)
            if body(trimmed(item)) { return true }
        }
        return false
    }
}
