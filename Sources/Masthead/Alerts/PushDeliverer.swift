import AsyncHTTPClient
import Fluent
import Foundation
import NIOCore
import NIOHTTP1
import SQLKit
import Vapor

/// Sends queued breaking-news alerts to browsers' push services: each message encrypted for
/// its browser (RFC 8291) and signed for the site (RFC 8292). A service's 404 or 410 means the
/// browser unsubscribed: the subscription is deleted. Busy or failing services are tried again
/// later, a few times. Deliveries are claimed for a while before they are sent, so instances
/// share the work without sending one twice; an instance killed mid-send leaves its claims to
/// lapse, and those messages go again (a browser may then show one alert twice, never none).
struct PushDeliverer: Sendable {
    let database: any Database
    let client: HTTPClient
    let vapid: VAPID
    let theme: Theme
    let settings: Settings
    let logger: Logger

    static let batchSize = 100
    static let concurrency = 16
    /// Longer than a batch can take (each message has 5 s to connect and 15 s to be answered,
    /// sixteen at a time): a claim that lapsed mid-batch would let another instance send again.
    static let claim: TimeInterval = 600
    static let attempts = 5
    /// How long a push service keeps an alert for a browser that is offline: news that broke
    /// six hours ago is no longer an alert.
    static let timeToLive = 6 * 3600

    struct Claimed: Sendable {
        let id: Int64
        let subscriptionID: UUID
        let bannerID: UUID
        let attempts: Int
        /// When this claim lapses: an outcome is recorded only while the claim is still this one.
        let until: Date
    }

    enum Outcome: Sendable {
        case sent(Int)
        case gone(Int)
        case retry(String)
        case failed(String)
    }

    /// Sends every due delivery, a batch at a time; returns how many were settled.
    @discardableResult
    func deliverDue() async throws -> Int {
        var settled = 0
        while true {
            let batch = try await claim()
            if batch.isEmpty { return settled }
            try await send(batch)
            settled += batch.count
        }
    }

    private func claim() async throws -> [Claimed] {
        let sql = database as! any SQLDatabase
        let now = Date()
        // A read first: most passes find nothing due, and on SQLite an UPDATE, even one that
        // matches nothing, would take the one write lock every few moments for nothing.
        let due = try await PushDelivery.query(on: database).filter(\.$status == .queued).filter(\.$nextAttemptAt <= now)
            .group(.or) { $0.filter(\.$claimedUntil == nil).filter(\.$claimedUntil < now) }.first()
        guard due != nil else { return [] }
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        // Whole seconds, so that the claim compares equal after a round trip through either database.
        let until = Date(timeIntervalSince1970: now.addingTimeInterval(Self.claim).timeIntervalSince1970.rounded(.down))
        let rows = try await sql.raw("""
            UPDATE push_deliveries SET claimed_until = \(bind: until), attempts = attempts + 1
            WHERE id IN (SELECT id FROM push_deliveries
                         WHERE status = \(bind: PushDelivery.Status.queued.rawValue) AND next_attempt_at <= \(bind: now)
                           AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                         ORDER BY next_attempt_at, id LIMIT \(bind: Self.batchSize)\(lock))
            RETURNING id, subscription_id, banner_id, attempts
            """).all()
        return try rows.map { row in
            Claimed(
                id: try row.decode(column: "id", as: Int64.self), subscriptionID: try row.decode(column: "subscription_id", as: UUID.self),
                bannerID: try row.decode(column: "banner_id", as: UUID.self), attempts: try row.decode(column: "attempts", as: Int.self),
                until: until
            )
        }
    }

    private func send(_ batch: [Claimed]) async throws {
        let subscriptions = try await PushSubscription.query(on: database).filter(\.$id ~~ Set(batch.map(\.subscriptionID))).all()
            .reduce(into: [UUID: PushSubscription]()) { $0[$1.id!] = $1 }
        var payloads: [UUID: Data] = [:]
        for bannerID in Set(batch.map(\.bannerID)) {
            payloads[bannerID] = try await payload(for: bannerID)
        }
        // Each outcome is recorded as soon as it is known, so that a slow push service holds
        // up nobody else's alert and a killed instance repeats only what was in flight.
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = batch[...]
            func next() -> Bool {
                guard let delivery = pending.popFirst() else { return false }
                let subscription = subscriptions[delivery.subscriptionID], payload = payloads[delivery.bannerID] ?? nil
                group.addTask {
                    let outcome: Outcome
                    if let subscription, let payload {
                        outcome = await post(payload, to: subscription)
                    } else {
                        outcome = .failed(subscription == nil ? "the browser unsubscribed before the alert went" : "the banner is down or the story unpublished")
                    }
                    try await record(outcome, of: delivery)
                }
                return true
            }
            for _ in 0..<Self.concurrency where next() {}
            while try await group.next() != nil {
                _ = next()
            }
        }
    }

    /// What the notification shows: the edition's "Breaking" label and the site's name, the
    /// banner's headline and the story's address. Never the story's text. Nil once the banner is
    /// down or the story unpublished: the alert is no longer news.
    private func payload(for bannerID: UUID) async throws -> Data? {
        guard let banner = try await BreakingNews.find(bannerID, on: database), banner.endsAt > Date(),
              let article = try await Article.find(banner.articleID, on: database), article.status == .published
        else { return nil }
        let edition = theme.editions[banner.edition] ?? theme.editions.defaultEdition
        struct Message: Encodable {
            let title: String
            let body: String
            let url: String
            let lang: String
            let dir: String
            let tag: String
        }
        return try JSONEncoder().encode(Message(
            title: "\(edition.text("breaking_label")) · \(settings.siteName)", body: banner.headline,
            url: settings.publicURL + SiteURL(edition: edition).article(article.slug),
            lang: edition.code, dir: edition.direction.rawValue, tag: "breaking-\(edition.code)"
        ))
    }

    private func post(_ payload: Data, to subscription: PushSubscription) async -> Outcome {
        guard let url = URL(string: subscription.endpoint), settings.pushServices.allows(subscription.endpoint) else {
            return .failed("the push service is not one this site sends to")
        }
        guard let recipient = WebPushEncryption.Recipient(p256dh: subscription.p256dh, auth: subscription.auth) else {
            return .failed("the subscription's keys are not valid")
        }
        let body: Data
        do {
            body = try WebPushEncryption.encrypt(payload, for: recipient)
        } catch {
            return .failed("the alert does not fit in a push message")
        }
        do {
            var request = HTTPClientRequest(url: subscription.endpoint)
            request.method = .POST
            request.headers.add(name: "Authorization", value: try vapid.authorization(for: url, at: Date()))
            request.headers.add(name: "Content-Encoding", value: "aes128gcm")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.headers.add(name: "TTL", value: String(Self.timeToLive))
            request.headers.add(name: "Urgency", value: "high")
            request.headers.add(name: "Topic", value: "breaking-\(subscription.edition)")
            request.body = .bytes(ByteBuffer(data: body))
            let response = try await client.execute(request, timeout: .seconds(15))
            let status = Int(response.status.code)
            _ = try? await response.body.collect(upTo: 16 * 1024)
            switch status {
            case 200...299: return .sent(status)
            // Gone (RFC 8030 §7.3), or refused for good: a subscription made for another key
            // (403), or one the service no longer takes. Sending to it again would only repeat that.
            case 400, 401, 403, 404, 410: return .gone(status)
            case 429, 500...599: return .retry("the push service answered \(status)")
            default: return .failed("the push service answered \(status)")
            }
        } catch {
            return .retry("could not reach the push service: \(String(describing: error).prefix(200))")
        }
    }

    /// Writes what became of a delivery, while this claim still holds it.
    private func record(_ outcome: Outcome, of delivery: Claimed) async throws {
        let sql = database as! any SQLDatabase
        let update = sql.update(PushDelivery.schema).set("claimed_until", to: SQLLiteral.null)
            .where("id", .equal, delivery.id).where("claimed_until", .equal, delivery.until).where("status", .equal, PushDelivery.Status.queued.rawValue)
        switch outcome {
        case .sent(let status):
            try await update.set("status", to: PushDelivery.Status.sent.rawValue).set("response", to: "\(status)").run()
        case .gone(let status):
            try await database.writeTransaction { db in
                let held = try await (db as! any SQLDatabase).update(PushDelivery.schema).set("claimed_until", to: SQLLiteral.null)
                    .set("status", to: PushDelivery.Status.gone.rawValue).set("response", to: "\(status): the browser unsubscribed")
                    .where("id", .equal, delivery.id).where("claimed_until", .equal, delivery.until)
                    .returning("id").all()
                guard !held.isEmpty else { return }
                try await PushSubscription.query(on: db).filter(\.$id == delivery.subscriptionID).delete()
            }
        case .retry(let reason) where delivery.attempts < Self.attempts:
            let wait = 30 * pow(2, Double(delivery.attempts - 1))
            try await update.set("next_attempt_at", to: Date().addingTimeInterval(wait)).set("response", to: reason).run()
            logger.notice("push.retry", metadata: ["delivery": "\(delivery.id)", "reason": "\(reason)"])
        case .retry(let reason), .failed(let reason):
            try await update.set("status", to: PushDelivery.Status.failed.rawValue).set("response", to: reason).run()
            logger.warning("push.failed", metadata: ["delivery": "\(delivery.id)", "reason": "\(reason)"])
        }
    }
}
