import Foundation
import NIOHTTP1
import Prometheus
import Synchronization

/// What one instance tells Prometheus (`/metrics`): requests by route and status and how long
/// they took, page-cache hits, background work done and failed, webhooks, and, read when
/// scraped, queue depths, connections and the process's memory and files.
///
/// Each application has its own registry rather than swift-metrics' process-wide one, so that
/// the instances a test runs side by side each count their own.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// What a request is counted under: its route, never its path, so that a client inventing
    /// paths or methods cannot grow the number of series.
    struct RequestKind: Hashable, Sendable {
        let route: String
        let method: String
        let status: UInt
    }

    /// Route labels of requests answered before or without routing.
    enum EdgeRoute {
        static let cachedPage = "cached page"
        static let media = "media"
        static let refused = "refused at the edge"
        static let unmatched = "unmatched"
    }

    /// A request kind's counter and its route's latencies, which a connection keeps at hand so
    /// that the requests it answers after the first take no lock shared with other connections.
    struct RequestSeries {
        let count: Counter
        let latency: DurationHistogram

        func record(took duration: Duration) {
            count.increment()
            latency.record(duration)
        }
    }

    private let requestCounters = Mutex<[RequestKind: Counter]>([:])
    private let latencies = Mutex<[String: DurationHistogram]>([:])
    let pageCacheHits: Counter
    let pageCacheMisses: Counter
    let connectionsRefused: Counter

    init() {
        pageCacheHits = registry.makeCounter(descriptor: Self.pageCacheLookups, labels: [("result", "hit")])
        pageCacheMisses = registry.makeCounter(descriptor: Self.pageCacheLookups, labels: [("result", "miss")])
        connectionsRefused = registry.makeCounter(descriptor: .init(
            namespace: "masthead", metricName: "connections_refused", unitName: "total",
            helpText: "Connections answered 503 and closed because the instance held as many as it may."
        ))
        ProcessFigures.gauge(registry, "process_start_time", "seconds", "When this instance started, in seconds since 1970.")
            .set(Date().timeIntervalSince1970)
    }

    static func kind(route: String, method: HTTPMethod, status: HTTPResponseStatus) -> RequestKind {
        RequestKind(route: route, method: methodLabel(method), status: status.code)
    }

    /// A refusal written before a request could be read: a 408, a 400 for what cannot be parsed.
    func recordRefusal(_ status: HTTPResponseStatus) {
        series(for: Self.kind(route: EdgeRoute.refused, method: .RAW(value: "unread"), status: status)).record(took: .zero)
    }

    func series(for kind: RequestKind) -> RequestSeries {
        let counter = requestCounters.withLock { counters in
            if let counter = counters[kind] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.requests, labels: [("route", kind.route), ("method", kind.method), ("status", String(kind.status))]
            )
            counters[kind] = counter
            return counter
        }
        let histogram = latencies.withLock { histograms in
            if let histogram = histograms[kind.route] { return histogram }
            let histogram = registry.makeDurationHistogram(descriptor: Self.latency, labels: [("route", kind.route)], buckets: Self.latencyBuckets)
            histograms[kind.route] = histogram
            return histogram
        }
        return RequestSeries(count: counter, latency: histogram)
    }

    func backgroundJob(_ job: String) -> (items: Counter, failures: Counter) {
        (
            registry.makeCounter(descriptor: Self.jobItems, labels: [("job", job)]),
            registry.makeCounter(descriptor: Self.jobFailures, labels: [("job", job)])
        )
    }

    func webhook(outcome: String) {
        registry.makeCounter(descriptor: Self.webhooks, labels: [("outcome", outcome)]).increment()
    }

    func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: .init(namespace: "masthead", metricName: name, unitName: "", helpText: help), labels: labels)
    }

    /// Methods outside HTTP's registered few are counted together.
    private static func methodLabel(_ method: HTTPMethod) -> String {
        switch method {
        case .GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .OPTIONS: return method.rawValue
        default: return "other"
        }
    }

    /// From a page served from memory (well under a millisecond) to a slow render or upload.
    private static let latencyBuckets: [Duration] = [
        .microseconds(250), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "masthead", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "Requests answered, by route, method and status."
        )
    }

    private static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "masthead", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time from a request's head to its answer being written, by route."
        )
    }

    private static var pageCacheLookups: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "masthead", subsystem: "page_cache", metricName: "lookups", unitName: "total",
            helpText: "Public pages asked of the page cache: found (hit) or rendered (miss)."
        )
    }

    private static var jobItems: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "masthead", subsystem: "background", metricName: "items", unitName: "total",
            helpText: "What background jobs settled: mail and newsletter messages, pushes, CDN purges, scheduled articles."
        )
    }

    private static var jobFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "masthead", subsystem: "background", metricName: "failures", unitName: "total",
            helpText: "Passes of a background job that failed (the next pass tries again)."
        )
    }

    private static var webhooks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "masthead", metricName: "webhooks", unitName: "total",
            helpText: "Stripe webhook events received, by outcome: as the ledger took them (applied, replayed, stale, unknown, mismatched, ignored), or refused (bad signature), malformed, failed."
        )
    }
}
