import Fluent
import Foundation
import SQLKit

/// A story flagged as breaking: a banner across every page of its edition until `endsAt`.
/// An edition shows one banner at a time; flagging another story ends the one before.
final class BreakingNews: Model, @unchecked Sendable {
    static let schema = "breaking_news"

    @ID(key: .id) var id: UUID?
    @Field(key: "article_id") var articleID: UUID
    @Field(key: "edition") var edition: String
    @Field(key: "headline") var headline: String
    @Field(key: "starts_at") var startsAt: Date
    @Field(key: "ends_at") var endsAt: Date
    /// Set once some instance has told every other that the banner is over (by raising the
    /// content generation), so that an expiry is announced exactly once.
    @Field(key: "expiry_noted") var expiryNoted: Bool
    @Field(key: "created_by") var createdBy: String

    init() {}

    /// The banners showing now, newest first.
    static func current(on database: any Database, at now: Date) async throws -> [BreakingNews] {
        try await query(on: database).filter(\.$expiryNoted == false).filter(\.$endsAt > now)
            .sort(\.$startsAt, .descending).all()
    }

    /// Marks every banner whose time is up as over and, when there was one, raises the content
    /// generation so that every instance drops the pages that show it. Several instances may
    /// try at once: the update lets only one of them find each banner.
    @discardableResult
    static func noteExpiries(on database: any Database, at now: Date) async throws -> Bool {
        try await database.writeTransaction { db in
            let ended = try await (db as! any SQLDatabase).update(schema)
                .set("expiry_noted", to: true)
                .where("expiry_noted", .equal, false)
                .where("ends_at", .lessThanOrEqual, now)
                .returning("edition")
                .all()
            guard !ended.isEmpty else { return false }
            try await ContentGeneration.bump(on: db, purging: .editions(try ended.map { try $0.decode(column: "edition", as: String.self) }))
            return true
        }
    }
}

/// What editors do with breaking news: flag a published story for a while, with alerts if they
/// ask (by email to the edition's breaking-news lists, by Web Push to the browsers that took
/// the edition's alerts), and end a banner early. The alerts are queued in the transaction
/// that puts the banner up: a banner exists with all its alerts or not at all.
struct BreakingDesk: Sendable {
    struct Flag: Sendable {
        var headline: String
        var minutes: Int
        var emailAlert: Bool
        var pushAlert = false
    }

    let database: any Database
    let now: Date

    static let longestHeadline = 200
    static let longestMinutes = 24 * 60

    func flag(_ article: Article, _ flag: Flag, by staff: Staff) async throws -> BreakingNews {
        guard StaffPolicy.may(staff.role, .flagBreakingNews) else { throw EditorialError.forbidden }
        let articleID = try article.requireID()
        guard article.status == .published, (article.publishedAt ?? .distantFuture) <= now else {
            throw EditorialError.invalid(["headline": "Only a published story can be flagged as breaking news."])
        }
        let headline = flag.headline.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = headline.isEmpty ? article.title : headline
        guard shown.count <= Self.longestHeadline, !shown.contains(where: \.isNewline) else {
            throw EditorialError.invalid(["headline": "Keep the banner's headline to one line of up to \(Self.longestHeadline) characters."])
        }
        guard (1...Self.longestMinutes).contains(flag.minutes) else {
            throw EditorialError.invalid(["minutes": "Show the banner for between a minute and a day."])
        }
        // A second press of the button, or a second editor at once, must not alert everyone twice.
        if try await BreakingNews.current(on: database, at: now).contains(where: { $0.articleID == articleID }) {
            throw EditorialError.invalid(["headline": "This story is the banner already: take it down first to flag it again."])
        }
        let lists = flag.emailAlert ? try await alertLists(for: article.edition) : []
        if flag.emailAlert && lists.isEmpty {
            throw EditorialError.invalid(["email": "No active newsletter of this edition carries breaking-news alerts: mark one in Newsletters first."])
        }
        return try await database.writeTransaction { db in
            let replaced = try await (db as! any SQLDatabase).update(BreakingNews.schema)
                .set("ends_at", to: now)
                .set("expiry_noted", to: true)
                .where("edition", .equal, article.edition)
                .where("expiry_noted", .equal, false)
                .returning("id")
                .all()
            try await Self.stopAlerts(of: try replaced.map { try $0.decode(column: "id", as: UUID.self) }, on: db, now: now)
            let banner = BreakingNews()
            banner.articleID = articleID
            banner.edition = article.edition
            banner.headline = shown
            banner.startsAt = now
            banner.endsAt = now.addingTimeInterval(TimeInterval(flag.minutes * 60))
            banner.expiryNoted = false
            banner.createdBy = staff.email
            try await banner.create(on: db)
            if !lists.isEmpty {
                var draft = NewsletterSends.Draft(
                    subject: shown, intro: "", articleIDs: [articleID], newsletterIDs: lists,
                    scheduledAt: nil, ratePerSecond: 0, createdBy: staff.email
                )
                draft.alert = true
                do {
                    _ = try await NewsletterSends(database: db, now: now).create(draft)
                } catch let problem as NewsletterSends.Problem {
                    throw EditorialError.invalid(["email": problem.description])
                }
            }
            if flag.pushAlert {
                try await (db as! any SQLDatabase).raw("""
                    INSERT INTO push_deliveries (subscription_id, banner_id, status, attempts, next_attempt_at)
                    SELECT id, \(bind: try banner.requireID()), \(bind: PushDelivery.Status.queued.rawValue), 0, \(bind: now)
                    FROM push_subscriptions WHERE edition = \(bind: article.edition)
                    """).run()
            }
            let alerts = [lists.isEmpty ? nil : "emailed", flag.pushAlert ? "pushed" : nil].compactMap { $0 }
            try await AuditLog(database: db, now: now).record(
                staff.email, alerts.isEmpty ? "flagged as breaking" : "flagged as breaking and \(alerts.joined(separator: " and ")) the alert", "\(article.edition)/\(article.slug)"
            )
            try await ContentGeneration.bump(on: db, purging: .editions([article.edition]))
            return banner
        }
    }

    func end(_ article: Article, by staff: Staff) async throws {
        guard StaffPolicy.may(staff.role, .flagBreakingNews) else { throw EditorialError.forbidden }
        let articleID = try article.requireID()
        try await database.writeTransaction { db in
            let ended = try await (db as! any SQLDatabase).update(BreakingNews.schema)
                .set("ends_at", to: now)
                .set("expiry_noted", to: true)
                .where("article_id", .equal, articleID)
                .where("expiry_noted", .equal, false)
                .where("ends_at", .greaterThan, now)
                .returning("id")
                .all()
            guard !ended.isEmpty else { return }
            try await Self.stopAlerts(of: try ended.map { try $0.decode(column: "id", as: UUID.self) }, on: db, now: now)
            try await AuditLog(database: db, now: now).record(staff.email, "ended the breaking-news banner", "\(article.edition)/\(article.slug)")
            try await ContentGeneration.bump(on: db, purging: .editions([article.edition]))
        }
    }

    /// A banner taken down (or replaced) takes its alerts with it: what has not gone yet does
    /// not go. A wrong story flagged by mistake is stopped by taking it down.
    static func stopAlerts(of banners: [UUID], on db: any Database, now: Date) async throws {
        guard !banners.isEmpty else { return }
        try await PushDelivery.query(on: db).filter(\.$bannerID ~~ banners).filter(\.$status == .queued)
            .set(\.$status, to: .cancelled).set(\.$response, to: "the banner was taken down").update()
        let articles = try await BreakingNews.query(on: db).filter(\.$id ~~ banners).all()
        for banner in articles {
            let sends = try await NewsletterSend.query(on: db).filter(\.$alert == true).filter(\.$createdAt >= banner.startsAt.addingTimeInterval(-1))
                .filter(\.$status ~~ [.scheduled, .sending]).all()
            for send in sends where send.articleIDs == [banner.articleID] {
                try await NewsletterSends(database: db, now: now).cancel(send)
            }
        }
    }

    /// The edition's active lists that carry breaking-news alerts.
    func alertLists(for edition: String) async throws -> [UUID] {
        try await Newsletter.query(on: database).filter(\.$edition == edition).filter(\.$active == true)
            .filter(\.$breakingAlerts == true).sort(\.$position).all().compactMap(\.id)
    }
}
