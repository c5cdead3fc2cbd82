import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import Masthead

/// What the front server writes itself, byte for byte, through real sockets.
@Suite("The front server's HTTP/1.1 messages")
struct HTTPWireTests {
    @Test("requests a client pipelines are answered in the order it sent them, cached or routed")
    func pipelinedAnswersKeepTheirOrder() async throws {
        try await withSite(on: .sqlite) { site in
            _ = try await site.get("/")
            let client = try RawConnection(site)
            let health = "GET /healthz HTTP/1.1\r\nHost: news.example\r\n\r\n"
            let home = "GET / HTTP/1.1\r\nHost: news.example\r\n\r\n"
            client.send(health + home + health + "GET /healthz HTTP/1.1\r\nHost: news.example\r\nConnection: close\r\n\r\n")
            let answers = await client.receive().components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst()
            #expect(answers.count == 4)
            #expect(answers.map { $0.hasSuffix("\r\n\r\nok\n") } == [true, false, true, true])
            #expect(answers.dropFirst().first?.contains("</html>") == true)
        }
    }

    @Test("garbage pipelined after a good request ends the connection once the good one is answered")
    func garbageAfterAGoodRequest() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("GET /healthz HTTP/1.1\r\nHost: news.example\r\n\r\nNOT HTTP AT ALL\r\n\r\n")
            let answer = await client.receive()
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(answer.contains("Connection: close\r\n"))
            #expect(try await site.get("/healthz").status == .ok)
        }
    }

    @Test("a request that asks to close is the connection's last, whatever was pipelined behind it")
    func closeEndsThePipeline() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("GET /healthz HTTP/1.1\r\nHost: news.example\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\nHost: news.example\r\n\r\n")
            let answer = await client.receive()
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 2)
            #expect(answer.contains("Connection: close\r\n"))
        }
    }

    @Test("a request to switch protocols is answered and the connection closed")
    func upgradeEndsTheConnection() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("GET /healthz HTTP/1.1\r\nHost: news.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n")
            let answer = await client.receive()
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.contains("Connection: close\r\n"))
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 2)
        }
    }

    @Test("a client that pipelines hundreds of requests at once is answered the first, then closed")
    func pipelinedFloodIsClosed() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send(String(repeating: "GET /healthz HTTP/1.1\r\nHost: news.example\r\n\r\n", count: 300))
            let answer = await client.receive()
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count - 1 < 300)
            #expect(client.closedByServer)
            #expect(try await site.get("/healthz").status == .ok)
        }
    }

    @Test("a 304 answered through the router carries no Content-Length, like the fast path's")
    func routedNotModifiedHasNoLength() async throws {
        try await withSite(on: .sqlite) { site in
            let page = try await site.get("/news")
            let etag = try #require(page.headers.first(name: .eTag))
            let client = try RawConnection(site)
            // A bracketed parameter is never keyed for the fast path: the router answers.
            client.send("GET /news?filter[x]=1 HTTP/1.1\r\nHost: news.example\r\nIf-None-Match: \(etag)\r\nConnection: close\r\n\r\n")
            let answer = await client.receive()
            #expect(answer.hasPrefix("HTTP/1.1 304 Not Modified\r\n"))
            #expect(!answer.lowercased().contains("content-length"))
            #expect(answer.lowercased().contains("etag: \(etag.lowercased())"))
        }
    }

    @Test("a garbled request line alone gets 400 with the security headers")
    func garbledRequestLine() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("\u{1}\u{2} / HTTP/1.1\r\n\r\n")
            let answer = await client.receive()
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(answer.lowercased().contains("x-content-type-options: nosniff\r\n"))
        }
    }

    @Test("an HTTP/1.0 request is answered in HTTP/1.0")
    func http10StatusLine() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("GET /healthz HTTP/1.0\r\n\r\n")
            let answer = await client.receive()
            #expect(answer.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(answer.hasSuffix("\r\n\r\nok\n"))
        }
    }

    @Test("Accept-Encoding admits gzip as RFC 9110 says, q=0 refusing it", arguments: [
        ("gzip", true), ("GZip", true), ("deflate, gzip;q=0.5", true), (" br ,  gzip ", true), ("*", true),
        ("gzip;q=0.001", true), ("gzip; Q=1", true), ("gzip;q=0", false), ("gzip ; q=0.000", false), ("*;q=0", false),
        ("br", false), ("x-gzip", false), ("gzipped", false), ("", false),
    ])
    func acceptsGzip(value: String, accepted: Bool) {
        #expect(PreparedBody.acceptsGzip(HTTPHeaders([("Accept-Encoding", value)])) == accepted)
    }

    @Test("a header field that would end its line early, or a name that is no token, is never written", arguments: [
        ("Location", "/next\r\nSet-Cookie: session=stolen"), ("Location", "/next\nX: y"), ("X-Note", "a\u{0}b"),
        ("Bad Name", "value"), ("Bad:Name", "value"), ("", "value"),
    ])
    func unsafeHeaderFieldsAreRefused(name: String, value: String) {
        #expect(HTTPWire.lines(HTTPHeaders([(name, value)])) == nil)
    }

    @Test("ordinary header fields are written as name, colon, value and CRLF, whatever their characters")
    func headerLines() throws {
        let lines = try #require(HTTPWire.lines(HTTPHeaders([("Content-Type", "text/html; charset=utf-8"), ("X-Title", "Kürt\tbaşlık")])))
        #expect(String(buffer: lines) == "Content-Type: text/html; charset=utf-8\r\nX-Title: Kürt\tbaşlık\r\n")
    }

    @Test("a reader who sends no Accept-Encoding gets the page uncompressed")
    func noAcceptEncoding() {
        #expect(!PreparedBody.acceptsGzip(HTTPHeaders([("Accept", "text/html")])))
    }
}
