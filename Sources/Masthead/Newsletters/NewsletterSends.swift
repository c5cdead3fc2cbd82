import Fluent
import Foundation
import SQLKit

/// Starting sends and following them. A send due now writes its deliveries, one per address
/// (an address on two of the lists gets one message), in the transaction that creates it; a
/// scheduled one writes them when it falls due, in the transaction that starts it. Either
/// way a send exists with all its deliveries or not at all.
struct NewsletterSends: Sendable {
    let database: any Database
    let now: Date

    struct Draft: Sendable {
        var subject: String
        var intro: String
        var articleIDs: [UUID]
        var newsletterIDs: [UUID]
        var scheduledAt: Date?
        var ratePerSecond: Int
        var createdBy: String
        var alert = false
    }

    /// Why a draft cannot be sent, in words for the admin and the command line.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    func create(_ draft: Draft) async throws -> NewsletterSend {
        let subject = draft.subject.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !subject.isEmpty, subject.count <= 200, !subject.contains(where: \.isNewline) else { throw Problem(description: "give the email a subject of one line, up to 200 characters") }
        guard !draft.articleIDs.isEmpty, draft.articleIDs.count <= 30 else { throw Problem(description: "choose between one and 30 articles") }
        guard !draft.newsletterIDs.isEmpty else { throw Problem(description: "choose at least one newsletter to send to") }
        guard draft.intro.count <= 5_000 else { throw Problem(description: "keep the introduction under 5,000 characters") }
        guard (0...10_000).contains(draft.ratePerSecond) else { throw Problem(description: "the rate limit is a number of messages a second, from 0 (none) to 10,000") }
        let published = try await Article.query(on: database).filter(\.$id ~~ draft.articleIDs).filter(\.$status == .published).count()
        guard published == Set(draft.articleIDs).count else { throw Problem(description: "only published articles can be sent") }
        let lists = try await Newsletter.query(on: database).filter(\.$id ~~ draft.newsletterIDs).filter(\.$active == true).count()
        guard lists == Set(draft.newsletterIDs).count else { throw Problem(description: "one of the newsletters does not exist or is inactive") }

        let send = NewsletterSend()
        send.subject = subject
        send.intro = draft.intro.trimmingCharacters(in: .whitespacesAndNewlines)
        send.articleIDs = draft.articleIDs
        send.newsletterIDs = draft.newsletterIDs
        send.status = .scheduled
        send.scheduledAt = max(draft.scheduledAt ?? now, now)
        send.ratePerSecond = draft.ratePerSecond
        send.createdBy = draft.createdBy
        send.createdAt = now
        send.recipients = 0
        send.alert = draft.alert
        try await database.writeTransaction { db in
            try await send.create(on: db)
            if send.scheduledAt <= now { try await NewsletterSends(database: db, now: now).start(send) }
        }
        if send.status == .sending { await refreshQueueStatistics() }
        return send
    }

    /// Starts every scheduled send whose time has come. Each start is its own transaction, and
    /// only one instance can move a send out of "scheduled".
    @discardableResult
    func startDue() async throws -> Int {
        let due = try await NewsletterSend.query(on: database).filter(\.$status == .scheduled).filter(\.$scheduledAt <= now).all()
        for send in due {
            try await database.writeTransaction { db in try await NewsletterSends(database: db, now: now).start(send) }
        }
        if !due.isEmpty { await refreshQueueStatistics() }
        return due.count
    }

    /// PostgreSQL plans the workers' claim by the table's statistics, which a send written at
    /// once leaves stale until autovacuum passes: with them stale, each claim of 50 deliveries
    /// sorted every queued one (100 ms at 100,000 readers); with them fresh, it reads 50 rows
    /// from the front of the due index (under a millisecond).
    /// Best effort: the send is committed by now, and failing it here would invite sending it twice.
    private func refreshQueueStatistics() async {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        do {
            try await sql.raw("ANALYZE newsletter_deliveries").run()
        } catch {
            database.logger.warning("newsletter.analyze_failed", metadata: ["error": "\(String(reflecting: error).prefix(300))"])
        }
    }

    /// Moves a send to "sending" and writes its deliveries: every active subscriber of its lists,
    /// less suppressed addresses, each address once.
    private func start(_ send: NewsletterSend) async throws {
        let sql = database as! any SQLDatabase
        let id = try send.requireID()
        let claimed = try await sql.raw("""
            UPDATE newsletter_sends SET status = \(bind: NewsletterSend.Status.sending.rawValue), queued_at = \(bind: now)
            WHERE id = \(bind: id) AND status = \(bind: NewsletterSend.Status.scheduled.rawValue) RETURNING id
            """).all()
        guard !claimed.isEmpty else { return }
        try await sql.raw("""
            INSERT INTO newsletter_deliveries (send_id, newsletter_id, subscription_id, email, status, attempts, next_attempt_at)
            SELECT \(bind: id), s.newsletter_id, s.id, s.email, \(bind: NewsletterDelivery.Status.queued.rawValue), 0, \(bind: now)
            FROM newsletter_subscriptions s JOIN newsletters n ON n.id = s.newsletter_id
            WHERE s.status = \(bind: NewsletterSubscription.Status.active.rawValue) AND s.newsletter_id IN (\(binds: send.newsletterIDs))
              AND NOT EXISTS (SELECT 1 FROM mail_suppressions m WHERE m.email = s.email)
            ORDER BY n.position, s.created_at
            ON CONFLICT (send_id, email) DO NOTHING
            """).run()
        let count = try await NewsletterDelivery.query(on: database).filter(\.$send.$id == id).count()
        try await sql.raw("UPDATE newsletter_sends SET recipients = \(bind: count) WHERE id = \(bind: id)").run()
        send.status = .sending
        send.queuedAt = now
        send.recipients = count
    }

    /// Stops a send: a scheduled one never starts; a running one sends nothing more (what went
    /// out stays recorded as sent, and one being handed over is settled by its answer).
    func cancel(_ send: NewsletterSend) async throws {
        let id = try send.requireID()
        try await database.writeTransaction { db in
            let sql = db as! any SQLDatabase
            try await sql.raw("""
                UPDATE newsletter_sends SET status = \(bind: NewsletterSend.Status.cancelled.rawValue), finished_at = \(bind: now)
                WHERE id = \(bind: id) AND status IN (\(bind: NewsletterSend.Status.scheduled.rawValue), \(bind: NewsletterSend.Status.sending.rawValue))
                """).run()
            try await sql.raw("""
                UPDATE newsletter_deliveries SET status = \(bind: NewsletterDelivery.Status.skipped.rawValue), response = 'cancelled'
                WHERE send_id = \(bind: id) AND status = \(bind: NewsletterDelivery.Status.queued.rawValue) AND handed_over_at IS NULL
                """).run()
        }
    }

    /// Marks sending sends with nothing left to try as sent.
    func finishDone() async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("""
            UPDATE newsletter_sends SET status = \(bind: NewsletterSend.Status.sent.rawValue), finished_at = \(bind: now)
            WHERE status = \(bind: NewsletterSend.Status.sending.rawValue)
              AND NOT EXISTS (SELECT 1 FROM newsletter_deliveries d WHERE d.send_id = newsletter_sends.id AND d.status = \(bind: NewsletterDelivery.Status.queued.rawValue))
            """).run()
    }

    /// Where a send stands: its deliveries by outcome, and how many of its recipients have
    /// unsubscribed since it went out.
    struct Progress: Sendable, Equatable {
        var total = 0
        var queued = 0
        var sent = 0
        var failed = 0
        var bounced = 0
        var skipped = 0
        var unconfirmed = 0
        var unsubscribedSince = 0

        var finished: Int { sent + failed + bounced + skipped + unconfirmed }
    }

    func progress(of send: NewsletterSend) async throws -> Progress {
        let sql = database as! any SQLDatabase
        let id = try send.requireID()
        var progress = Progress()
        let rows = try await sql.raw("SELECT status, COUNT(*) AS n FROM newsletter_deliveries WHERE send_id = \(bind: id) GROUP BY status").all()
        for row in rows {
            let count = try row.decode(column: "n", as: Int.self)
            progress.total += count
            switch NewsletterDelivery.Status(rawValue: try row.decode(column: "status", as: String.self)) {
            case .queued: progress.queued = count
            case .sent: progress.sent = count
            case .failed: progress.failed = count
            case .bounced: progress.bounced = count
            case .skipped: progress.skipped = count
            case .unconfirmed: progress.unconfirmed = count
            case nil: break
            }
        }
        if let queuedAt = send.queuedAt {
            // From the few who left since, not from every delivery: progress is asked every second.
            let unsubscribed = try await sql.raw("""
                SELECT COUNT(*) AS n FROM newsletter_subscriptions s
                WHERE s.status = \(bind: NewsletterSubscription.Status.unsubscribed.rawValue) AND s.unsubscribed_at >= \(bind: queuedAt)
                  AND EXISTS (SELECT 1 FROM newsletter_deliveries d WHERE d.send_id = \(bind: id) AND d.email = s.email AND d.subscription_id = s.id)
                """).first()
            progress.unsubscribedSince = try unsubscribed?.decode(column: "n", as: Int.self) ?? 0
        }
        return progress
    }
}
