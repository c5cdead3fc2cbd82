import Fluent
import Vapor

/// What a supervisor and a load balancer ask. `/healthz`: does the process answer at all? It
/// never touches the database, so that a database outage does not get every instance
/// restarted. `/readyz`: should readers be sent here? Only when the database answers and holds
/// every migration this build knows; an instance of an older build, still serving during a
/// rolling deploy, stays ready after a newer one has added its migrations (docs/operations.md).
struct HealthController {
    func register(on app: Application) {
        app.get("healthz") { _ in Self.answer("ok", .ok) }
        app.get("readyz") { req async -> Response in
            let pending: [String]
            do {
                pending = try await DatabaseSetup.pendingMigrations(on: req.db)
            } catch {
                req.logger.warning("readyz.database_unreachable", metadata: ["error": "\(String(reflecting: error).prefix(300))"])
                return Self.answer("not ready: the database does not answer", .serviceUnavailable)
            }
            guard pending.isEmpty else {
                return Self.answer("not ready: the database lacks \(pending.count) of this build's migrations (run masthead migrate)", .serviceUnavailable)
            }
            return Self.answer("ready", .ok)
        }
    }

    private static func answer(_ text: String, _ status: HTTPStatus) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/plain; charset=utf-8")
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: text + "\n"))
    }
}
