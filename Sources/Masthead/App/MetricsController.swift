import Fluent
import Foundation
import Prometheus
import SQLKit
import Vapor

/// `GET /metrics`: the instance's metrics in Prometheus' text format, for whoever holds
/// `MASTHEAD_METRICS_TOKEN` (as `Authorization: Bearer …`). Without a token configured the
/// route does not exist: traffic, queue depths and failure counts are an outlet's business.
///
/// Counters are kept as things happen (`ServerMetrics`); what is a state rather than an event
/// (queues, connections, memory) is read at each scrape.
struct MetricsController {
    let metrics: ServerMetrics
    let token: String
    let server: FrontServer
    let database: Settings.DatabaseLocation
    let poolSize: Int

    func register(on app: Application) {
        app.get("metrics") { req async throws -> Response in
            // The router reads /metrics/ and //metrics as /metrics; a proxy rule written for
            // /metrics alone would not, so only the exact path is answered.
            guard req.url.path == "/metrics" else { throw Abort(.notFound) }
            guard Self.bearer(req.headers).map({ ConstantTime.equal($0, token) }) == true else {
                var headers = HTTPHeaders([("WWW-Authenticate", "Bearer realm=\"metrics\""), ("Cache-Control", "no-store")])
                headers.add(name: .contentType, value: "text/plain; charset=utf-8")
                return Response(status: .unauthorized, headers: headers, body: .init(string: "a metrics token is required\n"))
            }
            await collect(req.db, logger: req.logger)
            var headers = HTTPHeaders()
            headers.add(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
            headers.add(name: .cacheControl, value: "no-store")
            return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
    }

    /// The counters kept in memory are answered even when the database is not: that is when
    /// an operator needs them most.
    private func collect(_ db: any Database, logger: Logger) async {
        metrics.gauge("connections_open", help: "Client connections this instance holds open.").set(Int64(server.openConnections))
        ProcessFigures.record(into: metrics.registry)
        let up = metrics.gauge("database_up", help: "1 when the last scrape could read the database, else 0.")
        do {
            try await collectFromDatabase(db)
            up.set(Int64(1))
        } catch {
            up.set(Int64(0))
            logger.warning("metrics.database_unreadable", metadata: ["error": "\(String(reflecting: error).prefix(300))"])
        }
    }

    private func collectFromDatabase(_ db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let queues = try await sql.raw("""
            SELECT
              (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL) AS mail,
              (SELECT count(*) FROM newsletter_deliveries WHERE status = 'queued') AS newsletter,
              (SELECT count(*) FROM push_deliveries WHERE status = 'queued') AS push,
              (SELECT count(*) FROM cdn_purges) AS cdn_purge
            """).first()
        for queue in ["mail", "newsletter", "push", "cdn_purge"] {
            let depth = try queues?.decode(column: queue, as: Int.self) ?? 0
            metrics.gauge("queue_depth", help: "Items waiting in a delivery queue (shared by every instance on the database).", labels: [("queue", queue)])
                .set(Int64(depth))
        }
        if case .postgres = database {
            metrics.gauge("database_pool_limit", help: "PostgreSQL connections this instance's pool may open.").set(Int64(poolSize))
            let states = try await sql.raw("""
                SELECT coalesce(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity
                WHERE application_name = \(bind: DatabaseSetup.applicationName) GROUP BY state
                """).all()
            // The states always reported, so that none keeps an old value once it has none.
            var byState = ["active": 0, "idle": 0, "idle in transaction": 0, "other": 0]
            for row in states {
                let state = try row.decode(column: "state", as: String.self)
                byState[byState[state] == nil ? "other" : state, default: 0] += try row.decode(column: "n", as: Int.self)
            }
            for (state, count) in byState {
                metrics.gauge("database_connections", help: "This instance's PostgreSQL connections, by state.", labels: [("state", state)]).set(Int64(count))
            }
        }
    }

    private static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: .authorization), value.lowercased().hasPrefix("bearer ") else { return nil }
        return String(value.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }
}

/// The process's own figures under the names Prometheus' client libraries give them, read from
/// `/proc` where it exists (Linux), so a soak shows memory and descriptors creeping.
enum ProcessFigures {
    static func record(into registry: PrometheusCollectorRegistry) {
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
           let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int64($0) }) {
            gauge(registry, "process_resident_memory", "bytes", "Resident memory.").set(pages * Int64(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            gauge(registry, "process_open_fds", "", "Open file descriptors.").set(Int64(descriptors.count))
        }
    }

    static func gauge(_ registry: PrometheusCollectorRegistry, _ name: String, _ unit: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: name, unitName: unit, helpText: help))
    }
}
