import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Uploaded and demo images, served like static files by the front server: opened and sent
/// from disk off the event loop, never read whole into memory or hashed per request, with a
/// strong ETag, conditional requests and single byte ranges (RFC 9110 §13, §14).
///
/// Uploads are stored under a name made of their content's digest, so that digest is their
/// ETag, computed once at upload, and they may be cached for a year. Other files (the demo's
/// drawings, written once) are tagged by size and modification time.
struct MediaFiles: FileResponder {
    let directory: String
    let fileIO: NonBlockingFileIO

    func answer(_ head: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<FileAnswer?>? {
        guard head.method == .GET || head.method == .HEAD, head.uri.hasPrefix(SiteURL.media("")) else { return nil }
        let name = String(head.uri.dropFirst(SiteURL.media("").count).prefix { $0 != "?" })
        guard MediaFileName.isValid(name), let contentType = MediaType.forFileName(name) else { return nil }
        let path = "\(directory)/\(name)"
        return fileIO.openFile(_deprecatedPath: path, eventLoop: eventLoop).flatMapThrowing { handle, region -> FileAnswer? in
            do {
                return try respond(head, name: name, contentType: contentType, handle: handle, size: region.endIndex)
            } catch {
                try? handle.close()
                throw error
            }
        }.flatMapErrorThrowing { error -> FileAnswer? in
            guard let code = (error as? IOError)?.errnoCode, code == ENOENT || code == EISDIR || code == ENOTDIR else { throw error }
            return nil
        }
    }

    private func respond(_ head: HTTPRequestHead, name: String, contentType: String, handle: NIOFileHandle, size: Int) throws -> FileAnswer {
        let modified = try handle.withUnsafeFileDescriptor { descriptor in
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw IOError(errnoCode: errno, reason: "fstat") }
            return Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec))
        }
        let etag = "\"\(Self.contentDigest(of: name) ?? "\(String(size, radix: 16))-\(String(Int(modified.timeIntervalSince1970), radix: 16))")\""
        var headers = HTTPHeaders()
        headers.add(name: .eTag, value: etag)
        headers.add(name: .lastModified, value: HTTPDate.format(modified))
        headers.add(name: .cacheControl, value: Self.contentDigest(of: name) != nil ? "public, max-age=31536000, immutable" : "public, max-age=86400")
        headers.add(name: .acceptRanges, value: "bytes")
        // An SVG opened on its own is a document of this origin: it may draw, never run script.
        headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        if PreparedBody.isNotModified(head.headers, etag: etag, lastModified: modified) {
            try handle.close()
            return FileAnswer(status: .notModified, headers: headers)
        }
        headers.add(name: .contentType, value: contentType)
        let range = Self.range(head.headers, size: size, etag: etag)
        switch range {
        case .unsatisfiable:
            try handle.close()
            headers.add(name: .contentRange, value: "bytes */\(size)")
            return FileAnswer(status: .rangeNotSatisfiable, headers: headers)
        case .part(let bytes):
            headers.add(name: .contentRange, value: "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(size)")
            return FileAnswer(status: .partialContent, headers: headers, file: handle, bytes: bytes)
        case .whole:
            return FileAnswer(status: .ok, headers: headers, file: handle, bytes: 0..<size)
        }
    }

    /// The digest an upload's name carries (`upload-<24 hex digits>.<ext>`), if it is one.
    private static func contentDigest(of name: String) -> String? {
        guard name.hasPrefix("upload-"), let dot = name.firstIndex(of: ".") else { return nil }
        let digest = name[name.index(name.startIndex, offsetBy: "upload-".count)..<dot]
        return digest.count == 24 && digest.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) ? String(digest) : nil
    }

    enum Range: Equatable {
        case whole
        case part(Swift.Range<Int>)
        case unsatisfiable
    }

    /// RFC 9110 §14.2: one `bytes=` range is honoured; several, or one of another unit, get the
    /// whole file, as does an `If-Range` that names another version.
    static func range(_ headers: HTTPHeaders, size: Int, etag: String) -> Range {
        guard let value = headers.first(name: .range) else { return .whole }
        if let ifRange = headers.first(name: "If-Range"), ifRange != etag { return .whole }
        guard value.hasPrefix("bytes="), !value.contains(",") else { return .whole }
        let spec = value.dropFirst("bytes=".count).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return .whole }
        let first = spec[0].trimmingCharacters(in: .whitespaces), last = spec[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return .unsatisfiable }
            return size == 0 ? .unsatisfiable : .part(max(0, size - suffix)..<size)
        }
        guard let start = Int(first), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        guard !last.isEmpty else { return .part(start..<size) }
        guard let end = Int(last), end >= start else { return .whole }
        return .part(start..<min(end + 1, size))
    }
}
