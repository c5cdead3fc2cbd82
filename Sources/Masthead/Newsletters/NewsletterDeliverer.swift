import Fluent
import Foundation
import Logging
import SQLKit

/// Works off newsletter deliveries: starts sends that fall due, then delivers over several
/// SMTP connections at once, each reused for message after message.
///
/// A worker claims a batch of deliveries for a while (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
/// so workers on other machines take other rows; SQLite has one writer anyway), records that a
/// message is handed over just before sending the line that ends it, and records the server's
/// answer the moment it comes. So a worker killed at any moment leaves its unfinished claims to
/// be taken up again once they lapse, except the messages it had handed over: the server may
/// have kept those, and they are settled as unconfirmed, never sent twice. Only a kill in the
/// instant between recording a hand-over and sending the end can lose a message. The server's
/// answer decides the rest: 4xx is tried again later, with a growing pause; a 5xx to the
/// recipient bounces and suppresses the address; any other 5xx fails the message; no answer
/// after the end leaves it unconfirmed.
struct NewsletterDeliverer: Sendable {
    let database: any Database
    let connector: any MailConnector
    let settings: NewsletterSettings
    let renderer: NewsletterRenderer
    let links: NewsletterLinks
    let pacer: SendPacer
    let logger: Logger
    var timings = DeliveryTimings()

    /// One pass over everything due. Returns the messages it settled.
    @discardableResult
    func deliverDue() async throws -> Int {
        try await NewsletterSends(database: database, now: Date()).startDue()
        try await settleAbandonedHandOvers()
        guard try await NewsletterSend.query(on: database).filter(\.$status == .sending).count() > 0 else { return 0 }
        let outcomes = DeliveryOutcomes(database: database)
        let settled = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<settings.connections { group.addTask { try await self.workOneConnection(recording: outcomes) } }
            return try await group.reduce(0, +)
        }
        try await NewsletterSends(database: database, now: Date()).finishDone()
        let live = try await NewsletterSend.query(on: database).filter(\.$status == .sending).all().compactMap(\.id)
        await renderer.forget(except: Set(live))
        return settled
    }

    private func workOneConnection(recording outcomes: DeliveryOutcomes) async throws -> Int {
        var connection: (any MailConnection)?
        var tally = DeliveryTimings.Tally()
        do {
            let settled = try await work(&connection, &tally, outcomes)
            await connection?.close()
            await timings.add(tally)
            return settled
        } catch {
            await connection?.close()
            await timings.add(tally)
            throw error
        }
    }

    private func work(_ connection: inout (any MailConnection)?, _ tally: inout DeliveryTimings.Tally, _ outcomes: DeliveryOutcomes) async throws -> Int {
        var settled = 0
        let worker = UUID().uuidString
        while !Task.isCancelled {
            var batch = try await tally.time(\.database) { try await claim(for: worker) }
            if batch.isEmpty { break }
            var claimedAt = Date()
            let recipients = try await tally.time(\.database) { try await Recipients.load(for: batch, on: database, now: Date()) }
            var index = 0
            while index < batch.count {
                defer { index += 1 }
                await pacer.wait(send: batch[index].sendID, perSecond: recipients.rate(of: batch[index].sendID))
                // A slow server must not let the claim lapse while this connection still works
                // through the batch: another would take the rest and send it again. Renewed with
                // three quarters left, more than one message's longest conversation takes, and at
                // least every second: renewing keeps only deliveries still queued, so a send
                // cancelled meanwhile stops within a second.
                if Date().timeIntervalSince(claimedAt) > min(claimSeconds / 4, 1) {
                    let remaining = batch[index...].map(\.id)
                    let kept = try await tally.time(\.database) { try await renew(remaining, for: worker) }
                    batch = Array(batch[..<index]) + batch[index...].filter { kept.contains($0.id) }
                    claimedAt = Date()
                    guard index < batch.count else { break }
                }
                let delivery = batch[index]
                let id = delivery.id
                guard recipients.mayReceive(delivery) else {
                    try await tally.time(\.database) { try await outcomes.record(.init(id: id, status: .skipped, response: "unsubscribed or suppressed before it was sent", worker: worker)) }
                    settled += 1
                    continue
                }
                let message = try await tally.time(\.rendering) {
                    let email = try await renderer.email(send: delivery.sendID, newsletter: delivery.newsletterID, access: recipients.access(of: delivery.email), generation: recipients.generation)
                    return email.message(to: .init(email: delivery.email, name: recipients.name(of: delivery)), unsubscribeURL: links.unsubscribeURL(subscription: delivery.subscriptionID))
                }
                do {
                    if connection == nil { connection = try await tally.time(\.smtp) { try await connector.connect() } }
                    let open = connection!
                    let answer = try await tally.time(\.smtp) {
                        try await open.deliver(message, answerWithin: answerWithin) { try await handOver(id, by: worker, in: outcomes) }
                    }
                    try await tally.time(\.database) { try await outcomes.record(.init(id: id, status: .sent, response: answer, worker: worker)) }
                } catch is HandOverWithdrawn {
                    // Another worker holds it now (this claim had lapsed), or its send was cancelled.
                    connection = nil
                    continue
                } catch let error as MailError {
                    if case .transient = error, connection == nil {
                        // No connection to the server at all: hand the batch back for later.
                        try await release(batch[index...].map(\.id), by: worker)
                        logger.warning("newsletter.connect_failed", metadata: ["error": "\(error)"])
                        return settled
                    }
                    if !error.isPermanent { await connection?.close(); connection = nil }
                    try await tally.time(\.database) { try await recordFailure(delivery, error, by: worker, in: outcomes) }
                }
                settled += 1
            }
        }
        return settled
    }

    private var claimSeconds: TimeInterval { TimeInterval(settings.claim.components.seconds) }

    /// How long the server's answer to a message's end is awaited: well within the claim the
    /// hand-over renews, so a live worker always records the answer (or its absence) before
    /// another could settle the message as abandoned: five minutes with the default ten-minute
    /// claim (RFC 5321 suggests ten; a server that slow is rare, and its message is not lost).
    private var answerWithin: Duration { .seconds(max(1, min(600, claimSeconds / 2))) }

    /// Records the hand-over, holding the claim past the answer's wait. A record that failed on
    /// its way back may have committed: it is taken back, as the message's end is not sent.
    private func handOver(_ id: Int64, by worker: String, in outcomes: DeliveryOutcomes) async throws -> Bool {
        let handOver = DeliveryOutcomes.HandOver(id: id, worker: worker, claimUntil: Date().addingTimeInterval(max(claimSeconds, 2 * Double(answerWithin.components.seconds))))
        do {
            return try await outcomes.handOver(handOver)
        } catch {
            try? await outcomes.withdraw(handOver)
            throw error
        }
    }

    /// Takes up to a batch of due deliveries for this connection, for the claim's duration.
    private func claim(for worker: String) async throws -> [ClaimedDelivery] {
        let sql = database as! any SQLDatabase
        let now = Date()
        let until = now.addingTimeInterval(claimSeconds)
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        let rows = try await sql.raw("""
            UPDATE newsletter_deliveries SET claimed_until = \(bind: until), claimed_by = \(bind: worker), attempts = attempts + 1
            WHERE id IN (SELECT id FROM newsletter_deliveries
                         WHERE status = \(bind: NewsletterDelivery.Status.queued.rawValue) AND next_attempt_at <= \(bind: now)
                           AND (claimed_until IS NULL OR claimed_until < \(bind: now)) AND handed_over_at IS NULL
                           AND send_id IN (SELECT id FROM newsletter_sends WHERE status = \(bind: NewsletterSend.Status.sending.rawValue))
                         ORDER BY next_attempt_at, id LIMIT \(bind: settings.batchSize)\(lock))
            RETURNING id, send_id, newsletter_id, subscription_id, email, attempts
            """).all()
        return try rows.map(ClaimedDelivery.init(row:)).sorted { $0.id < $1.id }
    }

    /// Extends this connection's claim on the deliveries it has yet to send; returns those it
    /// still holds (none are lost to another worker unless the claim had lapsed already).
    private func renew(_ ids: [Int64], for worker: String) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let sql = database as! any SQLDatabase
        let rows = try await sql.raw("""
            UPDATE newsletter_deliveries SET claimed_until = \(bind: Date().addingTimeInterval(claimSeconds))
            WHERE id IN (\(binds: ids)) AND claimed_by = \(bind: worker) AND status = \(bind: NewsletterDelivery.Status.queued.rawValue)
            RETURNING id
            """).all()
        return Set(try rows.map { try $0.decode(column: "id", as: Int64.self) })
    }

    /// Messages a worker handed over and then stopped, killed before the server's answer came
    /// or was recorded, once that worker's claim lapsed: the server most likely kept them.
    private func settleAbandonedHandOvers() async throws {
        let sql = database as! any SQLDatabase
        let now = Date()
        let settled = try await sql.raw("""
            UPDATE newsletter_deliveries SET status = \(bind: NewsletterDelivery.Status.unconfirmed.rawValue),
              response = 'handed to the mail server by a worker that stopped before recording its answer',
              sent_at = handed_over_at, handed_over_at = NULL, claimed_until = NULL
            WHERE handed_over_at IS NOT NULL AND (claimed_until IS NULL OR claimed_until < \(bind: now)) AND status = \(bind: NewsletterDelivery.Status.queued.rawValue)
            RETURNING id
            """).all()
        if !settled.isEmpty { logger.warning("newsletter.unconfirmed", metadata: ["deliveries": "\(settled.count)"]) }
    }

    /// Hands back what this connection still holds and has not handed over.
    private func release(_ ids: [Int64], by worker: String) async throws {
        guard !ids.isEmpty else { return }
        let sql = database as! any SQLDatabase
        try await sql.raw("""
            UPDATE newsletter_deliveries SET claimed_until = NULL, attempts = attempts - 1, next_attempt_at = \(bind: Date().addingTimeInterval(30))
            WHERE id IN (\(binds: ids)) AND claimed_by = \(bind: worker) AND status = \(bind: NewsletterDelivery.Status.queued.rawValue) AND handed_over_at IS NULL
            """).run()
    }

    private func recordFailure(_ delivery: ClaimedDelivery, _ error: MailError, by worker: String, in outcomes: DeliveryOutcomes) async throws {
        let id = delivery.id
        switch error {
        case .transient(let reason):
            guard delivery.attempts < settings.maximumAttempts else {
                try await outcomes.record(.init(id: id, status: .failed, response: "gave up after \(delivery.attempts) attempts: \(reason)", worker: worker))
                return
            }
            let pause = min(60 * pow(2, Double(delivery.attempts - 1)), 6 * 3600)
            try await outcomes.record(.init(id: id, status: .queued, response: reason, worker: worker, retryAt: Date().addingTimeInterval(pause)))
        case .recipientRefused(let reason) where Self.isHardBounce(reason):
            try await outcomes.record(.init(id: id, status: .bounced, response: reason, worker: worker))
            try await Suppressions(database: database).suppress(delivery.email, reason: .hardBounce, detail: reason)
            logger.info("newsletter.bounced", metadata: ["delivery": "\(id)"])
        case .recipientRefused(let reason), .permanent(let reason):
            try await outcomes.record(.init(id: id, status: .failed, response: reason, worker: worker))
        case .unconfirmed(let reason):
            try await outcomes.record(.init(id: id, status: .unconfirmed, response: reason, worker: worker))
            logger.warning("newsletter.unconfirmed", metadata: ["delivery": "\(id)"])
        }
    }

    /// Whether a refusal says the address itself is bad (RFC 3463 5.1.x), not a policy, quota
    /// or reputation refusal that says nothing about the address and must not remove it from
    /// every list. A bare 550, 551 or 553 without an enhanced code is read as an address one.
    static func isHardBounce(_ reply: String) -> Bool {
        let words = reply.split(separator: " ")
        guard let code = words.first.flatMap({ Int($0) }) else { return false }
        if words.count > 1, words[1].first?.isNumber == true, words[1].contains(".") { return words[1].hasPrefix("5.1.") }
        return [550, 551, 553].contains(code)
    }
}

/// A delivery as a connection holds it while it works through its batch.
private struct ClaimedDelivery {
    let id: Int64
    let sendID: UUID
    let newsletterID: UUID
    let subscriptionID: UUID
    let email: String
    /// Counting the attempt this claim is for.
    let attempts: Int

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: Int64.self)
        sendID = try row.decode(column: "send_id", as: UUID.self)
        newsletterID = try row.decode(column: "newsletter_id", as: UUID.self)
        subscriptionID = try row.decode(column: "subscription_id", as: UUID.self)
        email = try row.decode(column: "email", as: String.self)
        attempts = try row.decode(column: "attempts", as: Int.self)
    }
}

/// What a batch's recipients may get: whether they are still subscribed and not suppressed,
/// and the access level each address has now (a paying member gets the whole article).
private struct Recipients {
    let activeSubscriptions: Set<UUID>
    let suppressed: Set<String>
    /// Members among the batch's addresses, by address: when each may read paid articles until.
    let memberPaidUntil: [String: Date?]
    let rates: [UUID: Int]
    let names: [UUID: String]
    /// The content generation when the batch was taken: a rendering made before an article
    /// was changed (made paid, unpublished) is not used after it.
    let generation: Int64
    let now: Date

    /// Read with plain SQL, the columns it needs: decoding whole Fluent models, by reflection,
    /// for every batch of fifty was a sixth of a send's CPU.
    static func load(for batch: [ClaimedDelivery], on database: any Database, now: Date) async throws -> Recipients {
        let sql = database as! any SQLDatabase
        let emails = Array(Set(batch.map(\.email)))
        let subscriptions = try await sql.raw("""
            SELECT id, status, name FROM newsletter_subscriptions WHERE id IN (\(binds: Array(Set(batch.map(\.subscriptionID)))))
            """).all()
        let suppressed = try await sql.raw("SELECT email FROM mail_suppressions WHERE email IN (\(binds: emails))").all()
        let members = try await sql.raw("SELECT email, paid_until FROM members WHERE email IN (\(binds: emails))").all()
        let sends = try await sql.raw("""
            SELECT id, rate_per_second FROM newsletter_sends WHERE id IN (\(binds: Array(Set(batch.map(\.sendID)))))
            """).all()
        var active = Set<UUID>(), names: [UUID: String] = [:]
        for row in subscriptions {
            let id = try row.decode(column: "id", as: UUID.self)
            if try row.decode(column: "status", as: String.self) == NewsletterSubscription.Status.active.rawValue { active.insert(id) }
            names[id] = try row.decode(column: "name", as: String.self)
        }
        var paidUntil: [String: Date?] = [:]
        for row in members {
            paidUntil[try row.decode(column: "email", as: String.self)] = try row.decode(column: "paid_until", as: Date?.self)
        }
        var rates: [UUID: Int] = [:]
        for row in sends { rates[try row.decode(column: "id", as: UUID.self)] = try row.decode(column: "rate_per_second", as: Int.self) }
        return Recipients(
            activeSubscriptions: active,
            suppressed: Set(try suppressed.map { try $0.decode(column: "email", as: String.self) }),
            memberPaidUntil: paidUntil,
            rates: rates,
            names: names,
            generation: try await ContentGeneration.current(on: database),
            now: now
        )
    }

    func mayReceive(_ delivery: ClaimedDelivery) -> Bool {
        activeSubscriptions.contains(delivery.subscriptionID) && !suppressed.contains(delivery.email)
    }

    func access(of email: String) -> AccessLevel {
        memberPaidUntil[email].map { Member.viewer(paidUntil: $0, at: now).accessLevel } ?? .anonymous
    }

    func rate(of send: UUID) -> Int { rates[send] ?? 0 }

    func name(of delivery: ClaimedDelivery) -> String? {
        names[delivery.subscriptionID].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Spaces a send's messages out to its rate limit, across every connection of this worker.
actor SendPacer {
    private var nextSlot: [UUID: ContinuousClock.Instant] = [:]

    func wait(send: UUID, perSecond: Int) async {
        guard perSecond > 0 else { return }
        let now = ContinuousClock.now
        let slot = max(nextSlot[send] ?? now, now)
        nextSlot[send] = slot + .nanoseconds(1_000_000_000 / Int64(perSecond))
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}

/// Addresses no newsletter goes to.
struct Suppressions: Sendable {
    let database: any Database

    func suppress(_ email: String, reason: MailSuppression.Reason, detail: String) async throws {
        guard try await MailSuppression.query(on: database).filter(\.$email == email).first() == nil else { return }
        do {
            try await MailSuppression(email: email, reason: reason, detail: String(detail.prefix(500)), createdAt: Date()).create(on: database)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Suppressed meanwhile by another worker: the same outcome.
        }
    }
}
