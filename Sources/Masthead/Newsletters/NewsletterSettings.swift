import Foundation

/// How newsletters are delivered: how many SMTP connections at once, and how long a worker
/// holds the deliveries it took before another may take them up (after a crash).
public struct NewsletterSettings: Sendable {
    public var connections: Int
    public var claim: Duration
    /// Deliveries one connection takes at a time.
    public var batchSize: Int
    /// Attempts at a message the server keeps refusing for now, before it counts as failed.
    public var maximumAttempts: Int

    public init(connections: Int = 4, claim: Duration = .seconds(600), batchSize: Int = 50, maximumAttempts: Int = 8) {
        self.connections = connections
        self.claim = claim
        self.batchSize = batchSize
        self.maximumAttempts = maximumAttempts
    }

    static func fromEnvironment(_ environment: [String: String], parse: (String?, String, ClosedRange<Int>) throws -> Int?) throws -> NewsletterSettings {
        NewsletterSettings(
            connections: try parse(environment["MASTHEAD_NEWSLETTER_CONNECTIONS"], "MASTHEAD_NEWSLETTER_CONNECTIONS", 1...64) ?? 4,
            claim: .seconds(try parse(environment["MASTHEAD_NEWSLETTER_CLAIM_SECONDS"], "MASTHEAD_NEWSLETTER_CLAIM_SECONDS", 1...3600) ?? 600)
        )
    }
}
