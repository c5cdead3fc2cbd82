import Fluent
import Foundation
import SQLKit

/// Records what becomes of each delivery, several connections' records at once in one
/// statement: that a message is being handed over (just before the line that ends it is sent)
/// and the server's answer. Each connection waits until its own record is committed before it
/// goes on, so a worker killed at any moment leaves, for each message it had in flight, either
/// nothing (the server never got the message's end, and it is sent again) or a hand-over (it
/// may have been delivered, and is never sent again). Records that arrive while one write runs
/// go together in the next: one statement per record was most of the database's share of a send.
actor DeliveryOutcomes {
    struct Outcome: Sendable {
        let id: Int64
        let status: NewsletterDelivery.Status
        let response: String
        let at: Date
        /// When to try again, for an outcome that leaves the delivery queued.
        let nextAttempt: Date
        /// The claim it was sent under: an outcome counts only while that claim holds.
        let worker: String

        init(id: Int64, status: NewsletterDelivery.Status, response: String, worker: String, retryAt: Date? = nil) {
            let now = Date()
            self.id = id
            self.status = status
            self.response = response
            self.at = now
            self.nextAttempt = retryAt ?? now
            self.worker = worker
        }
    }

    /// A message about to be handed to the server, under the claim of `worker`, held until
    /// `claimUntil` (longer than its answer is awaited) so that it is not settled as
    /// unconfirmed while the server answers.
    struct HandOver: Sendable {
        let id: Int64
        let worker: String
        let claimUntil: Date
    }

    private enum Record {
        case outcome(Outcome)
        case handOver(HandOver)

        var id: Int64 {
            switch self {
            case .outcome(let outcome): outcome.id
            case .handOver(let handOver): handOver.id
            }
        }
    }

    private let database: any Database
    private var waiting: [(record: Record, done: CheckedContinuation<Bool, any Error>)] = []
    private var writing = false
    /// Binds per statement stay far below SQLite's and PostgreSQL's limits.
    private static let mostPerStatement = 200

    init(database: any Database) {
        self.database = database
    }

    func record(_ outcome: Outcome) async throws {
        _ = try await write(.outcome(outcome))
    }

    /// Records that the message is being handed over; false when this connection's claim on it
    /// was lost (to another worker, or to a cancelled send), and it must not be.
    func handOver(_ handOver: HandOver) async throws -> Bool {
        try await write(.handOver(handOver))
    }

    private func write(_ record: Record) async throws -> Bool {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Bool, any Error>) in
            waiting.append((record, done))
            if !writing {
                writing = true
                Task { await self.writeWaiting() }
            }
        }
    }

    private func writeWaiting() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(Self.mostPerStatement))
            waiting.removeFirst(batch.count)
            // In id order, as every other writer of deliveries goes, and tried twice: a deadlock
            // with a cancelled send's update, or a busy database, is worth a second try.
            let records = batch.map(\.record).sorted { $0.id < $1.id }
            let outcomes = records.compactMap { if case .outcome(let outcome) = $0 { outcome } else { nil } }
            let handOvers = records.compactMap { if case .handOver(let handOver) = $0 { handOver } else { nil } }
            do {
                var handedOver = Set<Claim>()
                do {
                    try await write(outcomes)
                    handedOver = try await write(handOvers)
                } catch {
                    try await Task.sleep(for: .milliseconds(50))
                    try await write(outcomes)
                    handedOver = try await write(handOvers)
                }
                for (record, done) in batch {
                    if case .handOver(let handOver) = record {
                        done.resume(returning: handedOver.contains(Claim(id: handOver.id, worker: handOver.worker)))
                    } else {
                        done.resume(returning: true)
                    }
                }
            } catch {
                batch.forEach { $0.done.resume(throwing: error) }
            }
        }
        writing = false
    }

    /// Only deliveries still queued and claimed by the connection that sent them: a cancelled
    /// send's deliveries stay skipped.
    private func write(_ outcomes: [Outcome]) async throws {
        guard !outcomes.isEmpty else { return }
        let sql = database as! any SQLDatabase
        let rows = outcomes.map { outcome -> SQLQueryString in
            "(\(bind: outcome.id), \(bind: outcome.status.rawValue), \(bind: String(outcome.response.prefix(500))), \(bind: outcome.at), \(bind: outcome.nextAttempt), \(bind: outcome.worker))"
        }
        try await sql.raw("""
            WITH outcome (id, status, response, at, next_attempt_at, worker) AS (VALUES \(rows.joined(separator: ", ")))
            UPDATE newsletter_deliveries SET status = outcome.status, response = outcome.response, claimed_until = NULL, handed_over_at = NULL,
              sent_at = CASE WHEN outcome.status IN (\(bind: NewsletterDelivery.Status.sent.rawValue), \(bind: NewsletterDelivery.Status.unconfirmed.rawValue)) THEN outcome.at ELSE NULL END,
              next_attempt_at = outcome.next_attempt_at
            FROM outcome
            WHERE newsletter_deliveries.id = outcome.id AND newsletter_deliveries.status = \(bind: NewsletterDelivery.Status.queued.rawValue)
              AND newsletter_deliveries.claimed_by = outcome.worker
            """).run()
    }

    /// A delivery as claimed by one connection: two connections of one worker may both ask to
    /// hand the same message over (one's claim lapsed, the other took it), and only the holder may.
    private struct Claim: Hashable {
        let id: Int64
        let worker: String
    }

    /// Marks the messages handed over; returns those still claimed by the connection handing them
    /// over. A handed-over message is never claimed again: once its claim lapses it is settled
    /// as unconfirmed (`NewsletterDeliverer`). Its next attempt moves out of reach too, so that
    /// an older instance during a rolling deploy, which does not know the mark, never takes it.
    private func write(_ handOvers: [HandOver]) async throws -> Set<Claim> {
        guard !handOvers.isEmpty else { return [] }
        let sql = database as! any SQLDatabase
        let now = Date()
        let rows = handOvers.map { "(\(bind: $0.id), \(bind: $0.worker), \(bind: $0.claimUntil))" as SQLQueryString }
        let kept = try await sql.raw("""
            WITH handover (delivery, claimant, hold) AS (VALUES \(rows.joined(separator: ", ")))
            UPDATE newsletter_deliveries SET handed_over_at = \(bind: now), claimed_until = handover.hold,
              next_attempt_at = \(bind: now.addingTimeInterval(10 * 365 * 86_400))
            FROM handover
            WHERE newsletter_deliveries.id = handover.delivery AND newsletter_deliveries.status = \(bind: NewsletterDelivery.Status.queued.rawValue)
              AND newsletter_deliveries.claimed_by = handover.claimant
            RETURNING id, claimed_by
            """).all()
        return Set(try kept.map { Claim(id: try $0.decode(column: "id", as: Int64.self), worker: try $0.decode(column: "claimed_by", as: String.self)) })
    }

    /// Takes back a hand-over whose record failed on its way back (committed, but the answer
    /// lost): the message's end was never sent, so it must be sent again, not settled.
    func withdraw(_ handOver: HandOver) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("""
            UPDATE newsletter_deliveries SET handed_over_at = NULL, next_attempt_at = \(bind: Date())
            WHERE id = \(bind: handOver.id) AND claimed_by = \(bind: handOver.worker) AND status = \(bind: NewsletterDelivery.Status.queued.rawValue)
            """).run()
    }
}
