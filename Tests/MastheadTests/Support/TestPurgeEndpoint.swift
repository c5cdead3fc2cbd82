import Foundation
import Synchronization
import Vapor

/// A CDN's purge API on 127.0.0.1: it records every request to `/purge`, whatever its method,
/// and refuses the next few with 503 when told to.
final class TestPurgeEndpoint: Sendable {
    struct Received: Sendable {
        let method: String
        let headers: HTTPHeaders
        let body: String
        let status: HTTPStatus

        /// The names a JSON purge carried under `field`.
        func names(in field: String) throws -> [String] {
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: [String]]
            return object?[field] ?? []
        }
    }

    private let app: Application
    private let log: Log
    let url: String

    private init(app: Application, log: Log, url: String) {
        self.app = app
        self.log = log
        self.url = url
    }

    static func start() async throws -> TestPurgeEndpoint {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .error
        let log = Log()
        app.middleware.use(Recorder(log: log))
        do {
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            guard let port = app.http.server.shared.localAddress?.port else { throw TestSupportError("the purge endpoint has no port") }
            return TestPurgeEndpoint(app: app, log: log, url: "http://127.0.0.1:\(port)/purge")
        } catch {
            await app.server.shutdown()
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Forgets what it received; the next `refusals` requests are answered 503.
    func reset(refusing refusals: Int = 0) {
        log.state.withLock { $0 = Log.State(received: [], refusalsLeft: refusals) }
    }

    var received: [Received] { log.state.withLock { $0.received } }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    private final class Log: Sendable {
        struct State {
            var received: [Received] = []
            var refusalsLeft = 0
        }

        let state = Mutex(State())

        func record(method: String, headers: HTTPHeaders, body: String) -> HTTPStatus {
            state.withLock { state in
                let status: HTTPStatus = state.refusalsLeft > 0 ? .serviceUnavailable : .ok
                if state.refusalsLeft > 0 { state.refusalsLeft -= 1 }
                state.received.append(Received(method: method, headers: headers, body: body, status: status))
                return status
            }
        }
    }

    /// Answers before routing, so that a method no route is registered for (`PURGE`) is recorded too.
    private struct Recorder: AsyncMiddleware {
        let log: Log

        func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
            guard request.url.path == "/purge" else { return Response(status: .notFound) }
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            return Response(status: log.record(method: request.method.rawValue, headers: request.headers, body: body))
        }
    }
}
