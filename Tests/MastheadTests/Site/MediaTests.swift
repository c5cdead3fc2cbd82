import Foundation
import Testing
import Vapor
@testable import Masthead

@Suite("Media served like static files")
struct MediaTests {
    private static let uploadName = "upload-0123456789abcdef01234567.png"

    private func withMedia(_ body: (TestSite, Data) async throws -> Void) async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let bytes = Data((0..<5_000).map { UInt8($0 % 251) })
            try FileManager.default.createDirectory(atPath: site.settings.mediaDirectory, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: "\(site.settings.mediaDirectory)/\(Self.uploadName)"))
            try await body(site, bytes)
        }
    }

    @Test("an upload is sent whole with its content digest as a strong ETag, cached for a year")
    func wholeFile() async throws {
        try await withMedia { site, bytes in
            let page = try await site.get("/media/\(Self.uploadName)")
            #expect(page.status == .ok)
            #expect(Data(page.bytes.readableBytesView) == bytes)
            #expect(page.headers.first(name: .eTag) == "\"0123456789abcdef01234567\"")
            #expect(page.headers.first(name: .cacheControl) == "public, max-age=31536000, immutable")
            #expect(page.headers.first(name: .acceptRanges) == "bytes")
            #expect(page.headers.first(name: .contentType) == "image/png")
            #expect(page.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(try await site.get("/media/\(Self.uploadName)?v=2").bytes.readableBytes == bytes.count)
        }
    }

    @Test("a byte range is answered 206 with that part, a suffix range with the end, an impossible one 416")
    func ranges() async throws {
        try await withMedia { site, bytes in
            let part = try await site.get("/media/\(Self.uploadName)", headers: [("Range", "bytes=10-19")])
            #expect(part.status == .partialContent)
            #expect(Data(part.bytes.readableBytesView) == bytes[10..<20])
            #expect(part.headers.first(name: .contentRange) == "bytes 10-19/5000")

            let tail = try await site.get("/media/\(Self.uploadName)", headers: [("Range", "bytes=-100")])
            #expect(Data(tail.bytes.readableBytesView) == bytes.suffix(100))

            let beyond = try await site.get("/media/\(Self.uploadName)", headers: [("Range", "bytes=5000-")])
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.headers.first(name: .contentRange) == "bytes */5000")

            let otherVersion = try await site.get("/media/\(Self.uploadName)", headers: [("Range", "bytes=0-9"), ("If-Range", "\"another\"")])
            #expect(otherVersion.status == .ok && otherVersion.bytes.readableBytes == 5_000)
        }
    }

    @Test("a client holding the file gets 304, and HEAD gets the length without the bytes")
    func conditionalAndHead() async throws {
        try await withMedia { site, _ in
            let unchanged = try await site.get("/media/\(Self.uploadName)", headers: [("If-None-Match", "\"0123456789abcdef01234567\"")])
            #expect(unchanged.status == .notModified && unchanged.bytes.readableBytes == 0)
            let head = try await site.app.client.send(.HEAD, to: URI(string: site.baseURL + "/media/\(Self.uploadName)"))
            #expect(head.status == .ok)
            #expect(head.headers.first(name: .contentLength) == "5000")
            #expect((head.body?.readableBytes ?? 0) == 0)
        }
    }

    @Test("a missing file or a name Masthead never gives is the site's 404 page")
    func missing() async throws {
        try await withMedia { site, _ in
            for path in ["/media/upload-ffffffffffffffffffffffff.png", "/media/..%2Fsecret", "/media/.hidden.png", "/media/"] {
                let page = try await site.get(path)
                #expect(page.status == .notFound, "\(path)")
            }
        }
    }

    @Test("a demo drawing is tagged by size and time, the same tag every time")
    func demoImages() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let image = try #require(article.imagePath)
            let first = try await site.get("/media/\(image)")
            let second = try await site.get("/media/\(image)")
            #expect(first.status == .ok && first.headers.first(name: .contentType) == "image/svg+xml")
            #expect(first.headers.first(name: .eTag) != nil && first.headers.first(name: .eTag) == second.headers.first(name: .eTag))
            #expect(first.headers.first(name: .cacheControl) == "public, max-age=86400")
        }
    }
}
