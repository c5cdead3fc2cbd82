import Foundation
import Vapor

/// Where a worker's delivery time goes: talking SMTP, rendering messages, and the database
/// (claims, recipients, outcomes). Summed over its connections, for the benchmark and the
/// command line's report at the end of a send.
public actor DeliveryTimings {
    public struct Shares: Sendable {
        public let smtp: Duration
        public let rendering: Duration
        public let database: Duration

        public var total: Duration { smtp + rendering + database }

        public func percent(_ part: Duration) -> Int {
            total == .zero ? 0 : Int((part / total * 100).rounded())
        }
    }

    /// One connection's tally, kept locally and handed over once it stops.
    struct Tally {
        var smtp = Duration.zero
        var rendering = Duration.zero
        var database = Duration.zero

        mutating func time<T>(_ part: WritableKeyPath<Tally, Duration>, _ work: () async throws -> T) async rethrows -> T {
            let start = ContinuousClock.now
            defer { self[keyPath: part] += ContinuousClock.now - start }
            return try await work()
        }
    }

    private var smtp = Duration.zero
    private var rendering = Duration.zero
    private var database = Duration.zero

    public init() {}

    func add(_ tally: Tally) {
        smtp += tally.smtp
        rendering += tally.rendering
        database += tally.database
    }

    public var shares: Shares { Shares(smtp: smtp, rendering: rendering, database: database) }
}

struct DeliveryTimingsKey: StorageKey {
    typealias Value = DeliveryTimings
}
