import Foundation
import Testing
@testable import Masthead

/// The edge holds every client to its limits, through real sockets.
@Suite("The edge's limits on clients")
struct EdgeLimitTests {
    @Test("a client that trickles its request head is answered 408 and cut off")
    func slowHeadIsCutOff() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.limits.headTimeout = .seconds(1) }) { site in
            let slow = try RawConnection(site)
            slow.send("GET / HTTP/1.1\r\nHost: news.example\r\n")
            try await Task.sleep(for: .milliseconds(400))
            slow.send("X-Trickle: 1\r\n")
            let answer = await slow.receive()
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout"))
            #expect(answer.lowercased().contains("x-content-type-options: nosniff"))
            #expect(slow.closedByServer)
        }
    }

    @Test("a connection that never sends a request is closed after the head deadline")
    func silentConnectionIsClosed() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.limits.headTimeout = .seconds(1) }) { site in
            let silent = try RawConnection(site)
            #expect(await silent.receive() == "")
            #expect(silent.closedByServer)
        }
    }

    @Test("a client that trickles a body is answered 408 and cut off")
    func slowBodyIsCutOff() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.limits.bodyTimeout = .seconds(1) }) { site in
            let slow = try RawConnection(site)
            slow.send("POST /signin HTTP/1.1\r\nHost: news.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=")
            #expect(await slow.receive().hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test("connections over the cap are refused with 503 while those already open are still served")
    func connectionCap() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.limits.maximumConnections = 16 }) { site in
            let open = try (0..<16).map { _ in try RawConnection(site) }
            try await Task.sleep(for: .milliseconds(200))
            let refused = try RawConnection(site)
            let refusal = await refused.receive()
            #expect(refusal.hasPrefix("HTTP/1.1 503 Service Unavailable"))
            #expect(refusal.contains("Retry-After: 5"))

            open[0].send("GET /healthz HTTP/1.1\r\nHost: news.example\r\n\r\n")
            #expect(await open[0].receive(until: "ok\n").hasPrefix("HTTP/1.1 200 OK"))
        }
    }

    @Test("a body declared too large is refused before it is sent, and 100-continue is never given")
    func oversizedBodyRefusedBeforeReading() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("POST /signin HTTP/1.1\r\nHost: news.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
            let answer = await client.receive(until: "\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 413 Payload Too Large"))
            #expect(!answer.contains("100 Continue"))
        }
    }

    @Test("a staff cookie that names no session earns no upload allowance")
    func forgedStaffCookieGetsNoUploadAllowance() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("POST /admin/articles/new HTTP/1.1\r\nHost: news.example\r\nCookie: mh_staff=made-up\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
            #expect(await client.receive(until: "\r\n\r\n").hasPrefix("HTTP/1.1 413"))
        }
    }

    @Test("a signed-in editor is told to continue with a large upload")
    func staffUploadIsAccepted() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let session = try #require(browser.cookies["mh_staff"])
            let client = try RawConnection(site)
            client.send("POST /admin/articles/new HTTP/1.1\r\nHost: news.example\r\nCookie: mh_staff=\(session)\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
            #expect(await client.receive(until: "\r\n\r\n").hasPrefix("HTTP/1.1 100 Continue"))
        }
    }

    @Test("a form posted in chunks past the form limit is refused with 413")
    func chunkedBodyOverLimit() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("POST /signin HTTP/1.1\r\nHost: news.example\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = String(repeating: "a", count: 32 * 1024)
            for _ in 0..<3 { client.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n") }
            #expect(await client.receive(until: "\r\n\r\n").hasPrefix("HTTP/1.1 413"))
        }
    }

    @Test("a client that pipelines requests but never reads gets no more answers queued than the socket holds")
    func pipelinedFloodIsBounded() async throws {
        try await withSite(on: .sqlite) { site in
            _ = try await site.get("/")
            let flood = try RawConnection(site)
            let request = "GET / HTTP/1.1\r\nHost: news.example\r\n\r\n"
            flood.send(String(repeating: request, count: 2_000))
            try await Task.sleep(for: .seconds(1))
            // Others are still served while the flooding client's answers wait for it to read.
            #expect(try await site.get("/healthz").status == .ok)
            let answered = try #require(site.app.storage[CachedPagesKey.self]).answered.load(ordering: .relaxed)
            #expect(answered < 2_000)
        }
    }
}

@Suite("The edge's limits on request heads")
struct HeaderLimitTests {
    @Test("a request with more header fields than any browser sends is answered 431")
    func tooManyHeaders() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let client = try RawConnection(site)
            client.send("GET / HTTP/1.1\r\nHost: news.example\r\n" + String(repeating: "X-A: b\r\n", count: 500) + "\r\n")
            #expect(await client.receive(until: "\r\n\r\n").hasPrefix("HTTP/1.1 431"))
        }
    }
}
