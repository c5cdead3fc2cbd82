import Foundation
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
            let answers = await client.receive(timeout: .seconds(10)).components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst()
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
            let answer = await client.receive(timeout: .seconds(5))
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(answer.contains("Connection: close\r\n"))
            #expect(try await site.get("/healthz").status == .ok)
        }
    }

    @Test("a garbled request line alone gets 400 with the security headers")
    func garbledRequestLine() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("\u{1}\u{2} / HTTP/1.1\r\n\r\n")
            let answer = await client.receive(timeout: .seconds(5))
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(answer.lowercased().contains("x-content-type-options: nosniff\r\n"))
        }
    }

    @Test("an HTTP/1.0 request is answered in HTTP/1.0")
    func http10StatusLine() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("GET /healthz HTTP/1.0\r\n\r\n")
            let answer = await client.receive(timeout: .seconds(5))
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

    @Test("a reader who sends no Accept-Encoding gets the page uncompressed")
    func noAcceptEncoding() {
        #expect(!PreparedBody.acceptsGzip(HTTPHeaders([("Accept", "text/html")])))
    }
}
