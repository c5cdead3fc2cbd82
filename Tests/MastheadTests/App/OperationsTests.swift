import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import Vapor
@testable import Masthead

/// What an operator watches and relies on: Prometheus metrics, request ids in logs that a
/// machine can read, and a shutdown that lets readers' requests finish.
@Suite("Operating an instance")
struct OperationsTests {
    static let token = "metrics-token-0123456789abcdef"

    static func scrape(_ site: TestSite) async throws -> String {
        let answer = try await site.get("/metrics", headers: [("Authorization", "Bearer \(token)")])
        #expect(answer.status == .ok)
        #expect(answer.headers.first(name: .contentType) == "text/plain; version=0.0.4; charset=utf-8")
        return answer.body
    }

    /// The value of the series whose line starts with `series`, e.g. `name{label="x"}`.
    static func value(of series: String, in exposition: String) -> Double? {
        exposition.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test("without a metrics token configured, /metrics is not served at all")
    func metricsOffByDefault() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let answer = try await site.get("/metrics")
            #expect(answer.status == .notFound)
        }
    }

    @Test("/metrics refuses a scrape without the token, or with a wrong one")
    func metricsNeedTheToken() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.metricsToken = Self.token }) { site in
            let bare = try await site.get("/metrics")
            #expect(bare.status == .unauthorized)
            #expect(bare.headers.first(name: "WWW-Authenticate") == "Bearer realm=\"metrics\"")
            #expect(try await site.get("/metrics", headers: [("Authorization", "Bearer \(Self.token.dropLast())x")]).status == .unauthorized)
            #expect(!bare.body.contains("masthead_"))
        }
    }

    @Test("requests are counted by route and status, never by the path a client made up", arguments: TestDatabase.available)
    func requestsByRoute(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.metricsToken = Self.token }) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            for _ in 0..<3 { #expect(try await site.get("/articles/\(article.slug)").status == .ok) }
            _ = try await site.get("/made-up-path-4711")

            let metrics = try await Self.scrape(site)
            #expect(metrics.contains("# TYPE masthead_http_requests_total counter"))
            let rendered = Self.value(of: #"masthead_http_requests_total{route="/articles/:slug",method="GET",status="200"}"#, in: metrics) ?? 0
            let fromMemory = Self.value(of: #"masthead_http_requests_total{route="cached page",method="GET",status="200"}"#, in: metrics) ?? 0
            #expect(rendered + fromMemory == 3)
            #expect(!metrics.contains("made-up-path-4711"))
            #expect(metrics.contains(#"masthead_http_request_duration_seconds_bucket{route="/articles/:slug",le="#))
            #expect((Self.value(of: #"masthead_page_cache_lookups_total{result="hit"}"#, in: metrics) ?? 0) >= 2)
            #expect((Self.value(of: #"masthead_page_cache_lookups_total{result="miss"}"#, in: metrics) ?? 0) >= 1)
        }
    }

    @Test("a scrape reads the delivery queues, the connections and the process's memory", arguments: TestDatabase.available)
    func scrapeReadsState(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false, configure: { $0.metricsToken = Self.token }) { site in
            let metrics = try await Self.scrape(site)
            for queue in ["mail", "newsletter", "push", "cdn_purge"] {
                #expect(Self.value(of: "masthead_queue_depth{queue=\"\(queue)\"}", in: metrics) != nil, "queue \(queue)")
            }
            #expect((Self.value(of: "masthead_connections_open", in: metrics) ?? 0) >= 1)
            #expect((Self.value(of: "process_resident_memory_bytes", in: metrics) ?? 0) > 1_000_000)
            #expect((Self.value(of: "process_open_fds", in: metrics) ?? 0) > 0)
            if database == .postgres {
                let connections = ["active", "idle"].compactMap { Self.value(of: "masthead_database_connections{state=\"\($0)\"}", in: metrics) }
                #expect(connections.reduce(0, +) >= 1, "this instance's own pooled connections, found by their application name")
            }
        }
    }

    @Test("what each background job settles is counted: a message the outbox sends is one item of the outbox job")
    func backgroundItemsCounted() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.metricsToken = Self.token }) { site in
            try await Outbox(database: site.app.db, now: Date()).enqueue(
                EmailMessage(from: site.settings.mailFrom, to: .init(email: "reader@example.org"), subject: "Hello", text: "Hello", html: "<p>Hello</p>"),
                purpose: "test"
            )
            #expect(try await waitUntil {
                (Self.value(of: #"masthead_background_items_total{job="outbox"}"#, in: try await Self.scrape(site)) ?? 0) >= 1
            })
        }
    }

    @Test("a metrics token short enough to guess, or the example's placeholder, is refused at start-up")
    func weakTokenRefused() throws {
        #expect(throws: SettingsError.self) {
            try Settings.fromEnvironment(["MASTHEAD_METRICS_TOKEN": "secret"])
        }
        #expect(throws: SettingsError.self) {
            try Settings.fromEnvironment(["MASTHEAD_METRICS_TOKEN": "CHANGE-ME-to-the-output-of-openssl-rand-hex-24"])
        }
    }

    @Test("/metrics is answered at its exact path only, so a proxy rule for /metrics cannot be stepped around with /metrics/")
    func metricsExactPath() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.metricsToken = Self.token }) { site in
            let answer = try await site.get("/metrics/", headers: [("Authorization", "Bearer \(Self.token)")])
            #expect(answer.status == .notFound)
            #expect(!answer.body.contains("masthead_"))
        }
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test("every routed answer names its request id, made afresh for each request")
    func answersNameTheirRequest() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let first = try await site.get("/readyz").headers.first(name: "X-Request-Id")
            let second = try await site.get("/readyz").headers.first(name: "X-Request-Id")
            #expect(first != nil && second != nil && first != second)
        }
    }

    @Test("a page a shared cache keeps carries no request id, which it would give every later reader")
    func noIdOnSharedPages() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let page = try await site.get("/articles/\(article.slug)")
            #expect(page.headers.first(name: .cacheControl)?.hasPrefix("public") == true)
            #expect(page.headers.first(name: "X-Request-Id") == nil)
        }
    }

    @Test("the request id a trusted proxy gives is kept, so its log and Masthead's name the request alike")
    func proxysIdKept() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let answer = try await site.get("/readyz", headers: [("X-Request-Id", "7f3a9c2e1b")])
            #expect(answer.headers.first(name: "X-Request-Id") == "7f3a9c2e1b")
        }
    }

    @Test("a request id sent by a client that is not a trusted proxy is replaced")
    func clientsIdReplaced() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.trustedProxies = try TrustedProxies(parsing: "10.9.9.9") }) { site in
            let answer = try await site.get("/readyz", headers: [("X-Request-Id", "forged-id")])
            let given = try #require(answer.headers.first(name: "X-Request-Id"))
            #expect(given != "forged-id")
        }
    }

    @Test("a JSON log line escapes what it quotes, so a message or field can never break the line")
    func jsonLineEscapes() throws {
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_796_000_000.5), level: .warning, label: "masthead",
            message: "quote \" backslash \\ newline \n bell \u{07}", fields: ["message": "shadow", "request-id": "abc", "n": .array(["1", "2"])]
        )
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "quote \" backslash \\ newline \n bell \u{07}")
        #expect(object["meta.message"] as? String == "shadow")
        #expect(object["request-id"] as? String == "abc")
        #expect(object["n"] as? [String] == ["1", "2"])
        #expect(object["time"] as? String == "2026-11-30T00:53:20.500Z")
        #expect(object["level"] as? String == "warning")
    }

    @Test("with MASTHEAD_LOG_FORMAT=json the server logs one JSON object per line, with the request's id")
    func serverLogsJSON() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-json-\(UUID().uuidString)").path
        let server = try MastheadProcess.start(["serve", "--port", "0"], environment: [
            "MASTHEAD_DATA": folder, "MASTHEAD_DEV_MAIL": "1", "MASTHEAD_LOG_FORMAT": "json", "MASTHEAD_LOG_LEVEL": "notice",
            "MASTHEAD_STRIPE_SECRET_KEY": "sk_test_local", "MASTHEAD_STRIPE_WEBHOOK_SECRET": "whsec_local",
        ])
        defer { server.terminate() }
        let serving = try #require(try await server.waitForLine(containing: "Masthead is serving"))
        let base = try #require(serving.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+/)).output
        var request = URLRequest(url: URL(string: "\(base)/webhooks/stripe")!)
        request.httpMethod = "POST"
        request.setValue("t=1,v1=00", forHTTPHeaderField: "Stripe-Signature")
        request.setValue("req-from-proxy-1", forHTTPHeaderField: "X-Request-Id")
        request.httpBody = Data("{}".utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 400)

        let line = try #require(try await server.waitForErrorLine(containing: "billing.webhook_refused"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["request-id"] as? String == "req-from-proxy-1")
        #expect(object["client"] as? String == "127.0.0.1")
    }

    @Test("an unknown log format stops the command with a one-line reason")
    func unknownLogFormat() async throws {
        let result = try await MastheadProcess.run(["migrate"], environment: ["MASTHEAD_LOG_FORMAT": "xml"])
        #expect(result.status == 1)
        #expect(result.standardError == "masthead: MASTHEAD_LOG_FORMAT must be text or json, got 'xml'\n")
    }
}

@Suite("Shutting down")
struct ShutdownTests {
    @Test("at shutdown a request under way is answered, saying Connection: close, while idle connections close at once and no new one is taken")
    func drainsRequestsUnderWay() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.limits.drainTimeout = .seconds(60) }) { site in
            let idle = try RawConnection(site)
            idle.send("GET /healthz HTTP/1.1\r\nHost: news.example\r\n\r\n")
            #expect(await idle.receive(until: "ok\n").hasPrefix("HTTP/1.1 200 OK"))
            let busy = try RawConnection(site)
            busy.send("POST /newsletters/subscribe HTTP/1.1\r\nHost: news.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 24\r\n\r\nemail=")

            let stopping = Task { await site.stop() }
            #expect(await idle.receive() == "")
            #expect(idle.closedByServer, "an idle connection is closed without waiting for the grace period")
            #expect(throws: (any Error).self, "the listener is closed") { try RawConnection(site) }

            busy.send("reader%40example.org&x=1")
            let answer = await busy.receive()
            #expect(answer.hasPrefix("HTTP/1.1 "))
            #expect(answer.contains("\r\nConnection: close\r\n"))
            #expect(busy.closedByServer)
            await stopping.value
        }
    }

    @Test("an instance that exits on SIGTERM finishes its requests first")
    func sigtermDrains() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-drain-\(UUID().uuidString)").path
        let server = try MastheadProcess.start(["serve", "--port", "0"], environment: ["MASTHEAD_DATA": folder, "MASTHEAD_DEV_MAIL": "1"])
        defer { server.terminate() }
        let serving = try #require(try await server.waitForLine(containing: "Masthead is serving"))
        let address = try #require(serving.firstMatch(of: /127\.0\.0\.1:(\d+)/))
        let port = try #require(Int(address.output.1))
        let busy = try RawConnection(port: port)
        busy.send("POST /newsletters/subscribe HTTP/1.1\r\nHost: news.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 24\r\n\r\nemail=")
        try await Task.sleep(for: .milliseconds(300))
        server.terminate()
        #expect(try await server.waitForLine(containing: "Stopping.") != nil)
        busy.send("reader%40example.org&x=1")
        let answer = await busy.receive()
        #expect(answer.hasPrefix("HTTP/1.1 "))
        #expect(answer.contains("\r\nConnection: close\r\n"))
    }
}
