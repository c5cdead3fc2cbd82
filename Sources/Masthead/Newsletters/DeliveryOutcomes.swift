import Fluent
import Foundation
import SQLKit

/// Records delivery outcomes as the mail server gives them, several connections' at once in
/// one statement: each connection still waits until its own outcome is committed before it
/// sends another message (so a killed worker repeats at most the message each connection had
/// in flight), but the outcomes that arrive while one write runs go together in the next.
/// One statement per message was most of the database's share of a send.
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

    private let database: any Database
    private var waiting: [(outcome: Outcome, done: CheckedContinuation<Void, any Error>)] = []
    private var writing = false
    /// Binds per statement stay far below SQLite's and PostgreSQL's limits.
    private static let mostPerStatement = 200

    init(database: any Database) {
        self.database = database
    }

    func record(_ outcome: Outcome) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            waiting.append((outcome, done))
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
            let outcomes = batch.map(\.outcome).sorted { $0.id < $1.id }
            do {
                do {
                    try await write(outcomes)
                } catch {
                    try await Task.sleep(for: .milliseconds(50))
                    try await write(outcomes)
                }
                batch.forEach { $0.done.resume() }
            } catch {
                batch.forEach { $0.done.resume(throwing: error) }
            }
        }
        writing = false
    }

    /// Only deliveries still queued and claimed by the connection that sent them: a cancelled
    /// send's deliveries stay skipped.
    private func write(_ outcomes: [Outcome]) async throws {
        let sql = database as! any SQLDatabase
        let rows = outcomes.map { outcome -> SQLQueryString in
            "(\(bind: outcome.id), \(bind: outcome.status.rawValue), \(bind: String(outcome.response.prefix(500))), \(bind: outcome.at), \(bind: outcome.nextAttempt), \(bind: outcome.worker))"
        }
        try await sql.raw("""
            WITH outcome (id, status, response, at, next_attempt_at, worker) AS (VALUES \(rows.joined(separator: ", ")))
            UPDATE newsletter_deliveries SET status = outcome.status, response = outcome.response, claimed_until = NULL,
              sent_at = CASE WHEN outcome.status = \(bind: NewsletterDelivery.Status.sent.rawValue) THEN outcome.at ELSE NULL END,
              next_attempt_at = outcome.next_attempt_at
            FROM outcome
            WHERE newsletter_deliveries.id = outcome.id AND newsletter_deliveries.status = \(bind: NewsletterDelivery.Status.queued.rawValue)
              AND newsletter_deliveries.claimed_by = outcome.worker
            """).run()
    }
}
