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
    /// Answers a GET or HEAD: 304 when the client already holds this representation,
    /// else the gzip form when the client accepts it, else the bytes as they are.
    /// On the hot path of every cached page: headers are appended, never searched.
    func answer(
        to requestHeaders: HTTPHeaders, cacheControl: String, vary: String = "Accept-Encoding", lastModified: LastModified? = nil
    ) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        let useGzip = gzip != nil && Self.acceptsGzip(requestHeaders)
        var headers = HTTPHeaders()
        headers.reserveCapacity(12)
        headers.add(name: .eTag, value: useGzip ? gzipTag : identityTag)
        headers.add(name: .cacheControl, value: cacheControl)
        headers.add(name: .vary, value: vary)
        if let lastModified {
            headers.add(name: .lastModified, value: lastModified.text)
        }
        if Self.isNotModified(requestHeaders, etag: useGzip ? gzipTag : identityTag, lastModified: lastModified?.date) {
            return (.notModified, headers, nil)
        }
        headers.add(name: .contentType, value: contentType)
        if useGzip, let gzip {
            headers.add(name: .contentEncoding, value: "gzip")
            return (.ok, headers, gzip)
        }
        return (.ok, headers, identity)
    }

    func response(
        to request: Request, cacheControl: String, vary: String = "Accept-Encoding", lastModified: LastModified? = nil
    ) -> Response {
        let answer = answer(to: request.headers, cacheControl: cacheControl, vary: vary, lastModified: lastModified)
        return Response(status: answer.status, headers: answer.headers, body: answer.body.map { .init(buffer: $0) } ?? .empty)
    }

    /// The bytes it holds, for caches that budget by size.
    var cost: Int { identity.readableBytes + (gzip?.readableBytes ?? 0) }

    private var identityTag: String { "\"\(etag)\"" }
    private var gzipTag: String { "\"\(etag)-gz\"" }

    private static func compressed(_ bytes: ByteBuffer, contentType: String) -> ByteBuffer? {
        guard contentType.hasPrefix("text/") || contentType.contains("svg") || contentType.contains("json")
            || contentType.contains("xml") else { return nil }
        var input = bytes
        guard let output = try? input.compress(with: .gzip()), output.readableBytes < bytes.readableBytes else {
            return nil
        }
        return output
    }

    /// RFC 9110 §12.5.3: a coding is acceptable when listed (or `*`) without `q=0`.
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        for value in headers[.acceptEncoding] {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard let coding = parts.first, coding == "gzip" || coding == "*" else { continue }
                let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) }
                if quality != 0 { return true }
            }
        }
        return false
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
