import Fluent
import Foundation
import Logging
import SQLKit

/// Works off newsletter deliveries: starts sends that fall due, then delivers over several
/// SMTP connections at once, each reused for message after message.
///
/// A worker claims a batch of deliveries for a while (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
/// so workers on other machines take other rows; SQLite has one writer anyway), and records
/// each message's outcome the moment the server answers. So a worker killed at any moment
/// leaves its unfinished claims to be taken up again once they lapse, and repeats at most the
/// message each connection had in flight. The server's answer decides the rest: 4xx is tried
/// again later, with a growing pause; a 5xx to the recipient bounces and suppresses the
/// address; any other 5xx fails the message.
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
        guard try await NewsletterSend.query(on: database).filter(\.$status == .sending).count() > 0 else { return 0 }
        let settled = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<settings.connections { group.addTask { try await self.workOneConnection() } }
            return try await group.reduce(0, +)
        }
        try await NewsletterSends(database: database, now: Date()).finishDone()
        let live = try await NewsletterSend.query(on: database).filter(\.$status == .sending).all().compactMap(\.id)
        await renderer.forget(except: Set(live))
        return settled
    }

    private func workOneConnection() async throws -> Int {
        var connection: (any MailConnection)?
        var tally = DeliveryTimings.Tally()
        do {
            let settled = try await work(&connection, &tally)
            await connection?.close()
            await timings.add(tally)
            return settled
        } catch {
            await connection?.close()
            await timings.add(tally)
            throw error
        }
    }

    private func work(_ connection: inout (any MailConnection)?, _ tally: inout DeliveryTimings.Tally) async throws -> Int {
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
                await pacer.wait(send: batch[index].$send.id, perSecond: recipients.rate(of: batch[index].$send.id))
                // A slow server must not let the claim lapse while this connection still works
                // through the batch: another would take the rest and send it again. Renewed with
                // three quarters left, more than one message's longest conversation takes, and at
                // least every second: renewing keeps only deliveries still queued, so a send
                // cancelled meanwhile stops within a second.
                if Date().timeIntervalSince(claimedAt) > min(claimSeconds / 4, 1) {
                    let remaining = batch[index...].compactMap(\.id)
                    let kept = try await tally.time(\.database) { try await renew(remaining, for: worker) }
                    batch = Array(batch[..<index]) + batch[index...].filter { $0.id.map(kept.contains) ?? false }
                    claimedAt = Date()
                    guard index < batch.count else { break }
                }
                let delivery = batch[index]
                guard let id = delivery.id else { continue }
                guard recipients.mayReceive(delivery) else {
                    try await tally.time(\.database) { try await record(id, .skipped, response: "unsubscribed or suppressed before it was sent", by: worker) }
                    settled += 1
                    continue
                }
                let message = try await tally.time(\.rendering) {
                    let email = try await renderer.email(send: delivery.$send.id, newsletter: delivery.newsletterID, access: recipients.access(of: delivery.email), generation: recipients.generation)
                    return email.message(to: .init(email: delivery.email, name: recipients.name(of: delivery)), unsubscribeURL: links.unsubscribeURL(subscription: delivery.subscriptionID))
                }
                do {
                    if connection == nil { connection = try await tally.time(\.smtp) { try await connector.connect() } }
                    let open = connection!
                    let answer = try await tally.time(\.smtp) { try await open.deliver(message) }
                    try await tally.time(\.database) { try await record(id, .sent, response: answer, by: worker) }
                } catch let error as MailError {
                    if case .transient = error, connection == nil {
                        // No connection to the server at all: hand the batch back for later.
                        try await release(batch[index...].compactMap(\.id))
                        logger.warning("newsletter.connect_failed", metadata: ["error": "\(error)"])
                        return settled
                    }
                    if case .transient = error { await connection?.close(); connection = nil }
                    try await tally.time(\.database) { try await recordFailure(delivery, error, by: worker) }
                }
                settled += 1
            }
        }
        return settled
    }

    private var claimSeconds: TimeInterval { TimeInterval(settings.claim.components.seconds) }

    /// Takes up to a batch of due deliveries for this connection, for the claim's duration.
    private func claim(for worker: String) async throws -> [NewsletterDelivery] {
        let sql = database as! any SQLDatabase
        let now = Date()
        let until = now.addingTimeInterval(claimSeconds)
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        let rows = try await sql.raw("""
            UPDATE newsletter_deliveries SET claimed_until = \(bind: until), claimed_by = \(bind: worker), attempts = attempts + 1
            WHERE id IN (SELECT id FROM newsletter_deliveries
                         WHERE status = \(bind: NewsletterDelivery.Status.queued.rawValue) AND next_attempt_at <= \(bind: now)
                           AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                           AND send_id IN (SELECT id FROM newsletter_sends WHERE status = \(bind: NewsletterSend.Status.sending.rawValue))
                         ORDER BY next_attempt_at, id LIMIT \(bind: settings.batchSize)\(lock))
            RETURNING id
            """).all()
        let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
        guard !ids.isEmpty else { return [] }
        return try await NewsletterDelivery.query(on: database).filter(\.$id ~~ ids).sort(\.$id).all()
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

    private func release(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        let sql = database as! any SQLDatabase
        try await sql.raw("""
            UPDATE newsletter_deliveries SET claimed_until = NULL, attempts = attempts - 1, next_attempt_at = \(bind: Date().addingTimeInterval(30))
            WHERE id IN (\(binds: ids))
            """).run()
    }

    /// Records an outcome, only on a delivery still queued and claimed by this connection: a
    /// cancelled send's deliveries stay skipped.
    private func record(_ id: Int64, _ status: NewsletterDelivery.Status, response: String, retryAt: Date? = nil, by worker: String) async throws {
        let sql = database as! any SQLDatabase
        let now = Date()
        try await sql.raw("""
            UPDATE newsletter_deliveries SET status = \(bind: status.rawValue), response = \(bind: String(response.prefix(500))),
              claimed_until = NULL, sent_at = \(bind: status == .sent ? now : nil), next_attempt_at = \(bind: retryAt ?? now)
            WHERE id = \(bind: id) AND status = \(bind: NewsletterDelivery.Status.queued.rawValue) AND claimed_by = \(bind: worker)
            """).run()
    }

    private func recordFailure(_ delivery: NewsletterDelivery, _ error: MailError, by worker: String) async throws {
        guard let id = delivery.id else { return }
        switch error {
        case .transient(let reason):
            guard delivery.attempts < settings.maximumAttempts else {
                try await record(id, .failed, response: "gave up after \(delivery.attempts) attempts: \(reason)", by: worker)
                return
            }
            let pause = min(60 * pow(2, Double(delivery.attempts - 1)), 6 * 3600)
            try await record(id, .queued, response: reason, retryAt: Date().addingTimeInterval(pause), by: worker)
        case .recipientRefused(let reason) where Self.isHardBounce(reason):
            try await record(id, .bounced, response: reason, by: worker)
            try await Suppressions(database: database).suppress(delivery.email, reason: .hardBounce, detail: reason)
            logger.info("newsletter.bounced", metadata: ["delivery": "\(id)"])
        case .recipientRefused(let reason), .permanent(let reason):
            try await record(id, .failed, response: reason, by: worker)
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

/// What a batch's recipients may get: whether they are still subscribed and not suppressed,
/// and the access level each address has now (a paying member gets the whole article).
private struct Recipients {
    let activeSubscriptions: Set<UUID>
    let suppressed: Set<String>
    let members: [String: Member]
    let rates: [UUID: Int]
    let names: [UUID: String]
    /// The content generation when the batch was taken: a rendering made before an article
    /// was changed (made paid, unpublished) is not used after it.
    let generation: Int64
    let now: Date

    static func load(for batch: [NewsletterDelivery], on database: any Database, now: Date) async throws -> Recipients {
        let emails = Array(Set(batch.map(\.email)))
        let subscriptions = try await NewsletterSubscription.query(on: database).filter(\.$id ~~ batch.map(\.subscriptionID)).all()
        let suppressed = try await MailSuppression.query(on: database).filter(\.$email ~~ emails).all()
        let members = try await Member.query(on: database).filter(\.$email ~~ emails).all()
        let sends = try await NewsletterSend.query(on: database).filter(\.$id ~~ Array(Set(batch.map(\.$send.id)))).all()
        return Recipients(
            activeSubscriptions: Set(subscriptions.filter { $0.status == .active }.compactMap(\.id)),
            suppressed: Set(suppressed.map(\.email)),
            members: Dictionary(members.map { ($0.email, $0) }, uniquingKeysWith: { first, _ in first }),
            rates: Dictionary(sends.compactMap { send in send.id.map { ($0, send.ratePerSecond) } }, uniquingKeysWith: { first, _ in first }),
            names: Dictionary(subscriptions.compactMap { sub in sub.id.map { ($0, sub.name) } }, uniquingKeysWith: { first, _ in first }),
            generation: try await ContentGeneration.current(on: database),
            now: now
        )
    }

    func mayReceive(_ delivery: NewsletterDelivery) -> Bool {
        activeSubscriptions.contains(delivery.subscriptionID) && !suppressed.contains(delivery.email)
    }

    func access(of email: String) -> AccessLevel {
        members[email]?.viewer(at: now).accessLevel ?? .anonymous
    }

    func rate(of send: UUID) -> Int { rates[send] ?? 0 }

    func name(of delivery: NewsletterDelivery) -> String? {
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
