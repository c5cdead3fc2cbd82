import Fluent
import Foundation
import Logging
import SQLKit

/// A message in the outbox: written in the transaction of what it tells of (a payment, a
/// cancellation), so it exists exactly when that happened, and sent afterwards by
/// `OutboxSender`, which keeps trying through a mail server's bad moments.
final class OutboxMessage: Model, @unchecked Sendable {
    static let schema = "outbox"

    @ID(key: .id) var id: UUID?
    /// What the message is for (`billing.welcome`, …), for the log and for tests.
    @Field(key: "purpose") var purpose: String
    @Field(key: "from_email") var fromEmail: String
    @OptionalField(key: "from_name") var fromName: String?
    @Field(key: "to_email") var toEmail: String
    @OptionalField(key: "to_name") var toName: String?
    @Field(key: "subject") var subject: String
    @Field(key: "text_body") var textBody: String
    @Field(key: "html_body") var htmlBody: String
    /// JSON pairs, in order.
    @Field(key: "extra_headers") var extraHeaders: String
    @Field(key: "message_id") var messageID: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "send_after") var sendAfter: Date
    /// A sender is working on it until then; past it, another may take it up.
    @OptionalField(key: "claimed_until") var claimedUntil: Date?
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "sent_at") var sentAt: Date?
    /// Given up: refused for good by the mail server, or still failing after every retry.
    @OptionalField(key: "failed_at") var failedAt: Date?
    @OptionalField(key: "last_error") var lastError: String?

    init() {}

    init(_ message: EmailMessage, purpose: String, now: Date) {
        self.purpose = purpose
        self.fromEmail = message.from.email
        self.fromName = message.from.name
        self.toEmail = message.to.email
        self.toName = message.to.name
        self.subject = message.subject
        self.textBody = message.text
        self.htmlBody = message.html
        let pairs = message.extraHeaders.map { [$0.0, $0.1] }
        self.extraHeaders = String(decoding: (try? JSONEncoder().encode(pairs)) ?? Data("[]".utf8), as: UTF8.self)
        self.messageID = message.messageID
        self.createdAt = now
        self.sendAfter = now
        self.attempts = 0
    }

    var message: EmailMessage {
        let pairs = (try? JSONDecoder().decode([[String]].self, from: Data(extraHeaders.utf8))) ?? []
        return EmailMessage(
            from: .init(email: fromEmail, name: fromName), to: .init(email: toEmail, name: toName),
            subject: subject, text: textBody, html: htmlBody,
            extraHeaders: pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, date: createdAt, messageID: messageID
        )
    }
}

/// Puts messages in the outbox, on the caller's database (its transaction).
struct Outbox: Sendable {
    let database: any Database
    let now: Date

    func enqueue(_ message: EmailMessage, purpose: String) async throws {
        try await OutboxMessage(message, purpose: purpose, now: now).create(on: database)
    }
}

/// Sends what the outbox holds. A message is claimed for a while before it is sent, so two
/// instances never send it at once; one whose sender died mid-way is taken up again when the
/// claim runs out (so a message may, rarely, arrive twice with the same Message-ID, but is never
/// lost). A temporary failure is retried with a growing pause, for about a day; a permanent
/// one gives up at once and says so in the log.
struct OutboxSender: Sendable {
    /// Longer than the slowest SMTP conversation the transport allows, so a claim never runs
    /// out while its message is still being sent.
    static let claim: TimeInterval = 15 * 60
    /// With the pause doubling to an hour, about a day of trying.
    static let maximumAttempts = 30

    let database: any Database
    let transport: any MailTransport
    let logger: Logger

    /// Sends the messages now due; returns how many were sent.
    @discardableResult
    func sendDue(now: Date = Date(), limit: Int = 20) async throws -> Int {
        let due = try await OutboxMessage.query(on: database)
            .filter(\.$sentAt == nil).filter(\.$failedAt == nil).filter(\.$sendAfter <= now)
            .group(.or) { $0.filter(\.$claimedUntil == nil).filter(\.$claimedUntil < now) }
            .sort(\.$createdAt).limit(limit).all()
        var sent = 0
        let clock = now.timeIntervalSince(Date())
        for candidate in due {
            if Task.isCancelled { break }
            // Each claim at its own time: a slow send must not leave the later claims stale.
            let moment = Date().addingTimeInterval(clock)
            guard try await claim(candidate, now: moment) else { continue }
            if try await send(candidate, now: moment) { sent += 1 }
        }
        return sent
    }

    /// Takes the message for this sender, unless another took it first.
    private func claim(_ message: OutboxMessage, now: Date) async throws -> Bool {
        let sql = database as! any SQLDatabase
        let taken = try await sql.raw("""
            UPDATE outbox SET claimed_until = \(bind: now.addingTimeInterval(Self.claim)), attempts = attempts + 1
            WHERE id = \(bind: message.requireID()) AND sent_at IS NULL AND failed_at IS NULL
              AND (claimed_until IS NULL OR claimed_until < \(bind: now))
            RETURNING id
            """).all()
        return !taken.isEmpty
    }

    private func send(_ message: OutboxMessage, now: Date) async throws -> Bool {
        let attempts = message.attempts + 1
        let delivered: Bool
        do {
            _ = try await transport.send(message.message)
            delivered = true
        } catch {
            delivered = false
            try await recordFailure(error, of: message, attempts: attempts, now: now)
        }
        guard delivered else { return false }
        // Sent: a failure to record it now must not put the message back in the queue. The claim
        // keeps it from being sent again while the database recovers; the log says what happened.
        do {
            try await OutboxMessage.query(on: database).filter(\.$id == message.requireID())
                .set(\.$sentAt, to: Date()).set(\.$claimedUntil, to: nil).update()
        } catch {
            logger.error("outbox.sent_unrecorded", metadata: ["purpose": "\(message.purpose)", "id": "\(message.id?.uuidString ?? "")", "error": "\(error)"])
        }
        logger.info("outbox.sent", metadata: ["purpose": "\(message.purpose)", "id": "\(message.id?.uuidString ?? "")"])
        return true
    }

    private func recordFailure(_ error: any Error, of message: OutboxMessage, attempts: Int, now: Date) async throws {
        let permanent = (error as? MailError)?.isPermanent ?? false
        let givingUp = permanent || attempts >= Self.maximumAttempts
        let retryAt = now.addingTimeInterval(min(3_600, 30 * pow(2, Double(attempts - 1))))
        try await OutboxMessage.query(on: database).filter(\.$id == message.requireID())
            .set(\.$claimedUntil, to: nil).set(\.$sendAfter, to: retryAt)
            .set(\.$failedAt, to: givingUp ? now : nil).set(\.$lastError, to: String("\(error)".prefix(500)))
            .update()
        logger.log(level: givingUp ? .error : .warning, givingUp ? "outbox.gave_up" : "outbox.retrying", metadata: [
            "purpose": "\(message.purpose)", "attempts": "\(attempts)", "error": "\(error)",
        ])
    }
}
