import CompressNIO
import Crypto
import Foundation
import Vapor

/// A response body made ready once and served many times: its bytes, a gzip form when that is
/// smaller, and a strong ETag per form (RFC 9110 §8.8.3: each content coding is its own
/// representation, so each gets its own tag).
struct PreparedBody: Sendable {
    let identity: ByteBuffer
    let gzip: ByteBuffer?
    let etag: String
    let contentType: String

    init(bytes: ByteBuffer, contentType: String) {
        identity = bytes
        self.contentType = contentType
        let digest = SHA256.hash(data: Data(bytes.readableBytesView))
        etag = digest.prefix(12).map { String(format: "%02x", $0) }.joined()
        gzip = Self.compressed(bytes, contentType: contentType)
    }

    init(html: String) {
        self.init(bytes: ByteBuffer(string: html), contentType: "text/html; charset=utf-8")
    }

    /// Answers a GET or HEAD: 304 when the client already holds this representation,
    /// else the gzip form when the client accepts it, else the bytes as they are.
    func answer(
        to requestHeaders: HTTPHeaders, cacheControl: String, vary: String = "Accept-Encoding", lastModified: LastModified? = nil,
        surrogateKeys: SurrogateKeys? = nil
    ) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        let useGzip = gzip != nil && Self.acceptsGzip(requestHeaders)
        let notModified = Self.isNotModified(requestHeaders, etag: tag(gzip: useGzip), lastModified: lastModified?.date)
        let headers = headers(
            gzip: useGzip, notModified: notModified, cacheControl: cacheControl, vary: vary, lastModified: lastModified, surrogateKeys: surrogateKeys
        )
        guard !notModified else { return (.notModified, headers, nil) }
        return (.ok, headers, useGzip ? gzip : identity)
    }

    /// The header fields of one of its answers: a 304 describes the representation the client
    /// holds (RFC 9110 §15.4.5) and so carries its validators and caching rules, not its type.
    func headers(
        gzip useGzip: Bool, notModified: Bool, cacheControl: String, vary: String, lastModified: LastModified?, surrogateKeys: SurrogateKeys? = nil
    ) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(14)
        headers.add(name: .eTag, value: tag(gzip: useGzip))
        headers.add(name: .cacheControl, value: cacheControl)
        headers.add(name: .vary, value: vary)
        if let lastModified {
            headers.add(name: .lastModified, value: lastModified.text)
        }
        surrogateKeys?.add(to: &headers)
        guard !notModified else { return headers }
        headers.add(name: .contentType, value: contentType)
        if useGzip {
            headers.add(name: .contentEncoding, value: "gzip")
        }
        return headers
    }

    func response(
        to request: Request, cacheControl: String, vary: String = "Accept-Encoding", lastModified: LastModified? = nil,
        surrogateKeys: SurrogateKeys? = nil
    ) -> Response {
        let answer = answer(to: request.headers, cacheControl: cacheControl, vary: vary, lastModified: lastModified, surrogateKeys: surrogateKeys)
        return Response(status: answer.status, headers: answer.headers, body: answer.body.map { .init(buffer: $0) } ?? .empty)
    }

    /// The bytes it holds, for caches that budget by size.
    var cost: Int { identity.readableBytes + (gzip?.readableBytes ?? 0) }

    /// The strong entity tag of the plain or the gzip form.
    func tag(gzip: Bool) -> String { gzip ? "\"\(etag)-gz\"" : "\"\(etag)\"" }

    private static func compressed(_ bytes: ByteBuffer, contentType: String) -> ByteBuffer? {
        guard contentType.hasPrefix("text/") || contentType.contains("svg") || contentType.contains("json")
            || contentType.contains("xml") else { return nil }
        var input = bytes
        guard let output = try? input.compress(with: .gzip()), output.readableBytes < bytes.readableBytes else {
            return nil
        }
        return output
    }

    /// RFC 9110 §12.5.3: a coding is acceptable when listed (or `*`) without `q=0`. Read byte
    /// by byte, without allocating: every answer from the fast path asks.
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        for (name, value) in headers where HTTPWire.name(name, is: "accept-encoding") {
            if HTTPWire.forEachItem(in: Substring(value).utf8, separatedBy: UInt8(ascii: ","), acceptsGzip(item:)) { return true }
        }
        return false
    }

    /// One `coding;q=…` item of Accept-Encoding.
    private static func acceptsGzip(item: Substring.UTF8View) -> Bool {
        let codingField = item.prefix { $0 != UInt8(ascii: ";") }
        let coding = HTTPWire.trimmed(codingField)
        guard HTTPWire.equalsIgnoringCase(coding, "gzip") || HTTPWire.equalsIgnoringCase(coding, "*") else { return false }
        var refused = false
        _ = HTTPWire.forEachItem(in: item.dropFirst(codingField.count), separatedBy: UInt8(ascii: ";")) { parameter in
            guard parameter.count >= 2, parameter.first == UInt8(ascii: "q") || parameter.first == UInt8(ascii: "Q"),
                  parameter.dropFirst().first == UInt8(ascii: "=") else { return false }
            // A qvalue is zero when it is "0", optionally followed by a point and zeros.
            let qvalue = parameter.dropFirst(2)
            refused = qvalue.first == UInt8(ascii: "0")
                && qvalue.dropFirst().allSatisfy { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "0") }
            return true
        }
        return !refused
    }

    /// RFC 9110 §13.1.2 and §13.1.3: If-None-Match wins; If-Modified-Since counts only without it.
    static func isNotModified(_ headers: HTTPHeaders, etag: String, lastModified: Date?) -> Bool {
        let noneMatch = headers[.ifNoneMatch]
        if !noneMatch.isEmpty {
            let tags = noneMatch.flatMap { $0.split(separator: ",") }.map {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "")
            }
            return tags.contains("*") || tags.contains(etag)
        }
        if let lastModified, let since = headers.first(name: .ifModifiedSince).flatMap(HTTPDate.parse) {
            return lastModified.timeIntervalSince1970.rounded(.down) <= since.timeIntervalSince1970
        }
        return false
    }
}

/// A Last-Modified time with its header text, formatted once when a page is cached.
struct LastModified: Sendable {
    let date: Date
    let text: String

    init(_ date: Date) {
        self.date = date
        text = HTTPDate.format(date)
    }
}

/// IMF-fixdate, the one date format HTTP sends (RFC 9110 §5.6.7).
enum HTTPDate {
    private static let format: Date.FormatString = "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT"
    private static let posix = Locale(identifier: "en_US_POSIX")
    private static let formatStyle = Date.VerbatimFormatStyle(
        format: format, locale: posix, timeZone: .gmt, calendar: Calendar(identifier: .gregorian)
    )
    private static let parseStrategy = Date.ParseStrategy(format: format, locale: posix, timeZone: .gmt)

    static func format(_ date: Date) -> String {
        date.formatted(formatStyle)
    }

    static func parse(_ text: String) -> Date? {
        try? Date(text, strategy: parseStrategy)
    }
}
