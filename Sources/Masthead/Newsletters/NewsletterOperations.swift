import Fluent
import Foundation
import Vapor

/// What the command line does with newsletters (`masthead newsletter …`), over the same
/// services as the admin: listing the lists, starting a send, a test send, and a send's progress.
public enum NewsletterOperations {
    /// Why an operation was refused, in one line for the operator.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    public struct ListSummary: Sendable {
        public let slug: String
        public let name: String
        public let edition: String
        public let subscribers: Int
        public let pending: Int
        public let active: Bool
    }

    public struct SendSummary: Sendable {
        public let id: UUID
        public let subject: String
        public let status: String
        public let scheduledAt: Date
        public let total: Int
        public let sent: Int
        public let queued: Int
        public let failed: Int
        public let bounced: Int
        public let skipped: Int
        public let unconfirmed: Int
        public let unsubscribedSince: Int

        public var finished: Int { sent + failed + bounced + skipped + unconfirmed }
        public var isDone: Bool { status == NewsletterSend.Status.sent.rawValue || status == NewsletterSend.Status.cancelled.rawValue }
    }

    public static func lists(app: Application) async throws -> [ListSummary] {
        var summaries: [ListSummary] = []
        for list in try await Newsletter.query(on: app.db).sort(\.$position).all() {
            let id = try list.requireID()
            let active = try await NewsletterSubscription.query(on: app.db).filter(\.$newsletter.$id == id).filter(\.$status == .active).count()
            let pending = try await NewsletterSubscription.query(on: app.db).filter(\.$newsletter.$id == id).filter(\.$status == .pending).count()
            summaries.append(ListSummary(slug: list.slug, name: list.name, edition: list.edition, subscribers: active, pending: pending, active: list.active))
        }
        return summaries
    }

    /// Starts a send of one article (or a digest of several) to one or more lists, now or at a
    /// time; returns its id. The subject defaults to the article's title, or the list's name.
    public static func send(app: Application, newsletters slugs: [String], articles articleSlugs: [String], subject: String?, intro: String, at time: Date?, ratePerSecond: Int, createdBy: String) async throws -> UUID {
        let lists = try await newsletters(slugs, on: app.db)
        let articles = try await published(articleSlugs, preferring: lists[0].edition, on: app.db)
        let title = subject ?? (articles.count == 1 ? articles[0].title : lists[0].name)
        do {
            let send = try await NewsletterSends(database: app.db, now: Date()).create(.init(
                subject: title, intro: intro, articleIDs: try articles.map { try $0.requireID() }, newsletterIDs: try lists.map { try $0.requireID() },
                scheduledAt: time, ratePerSecond: ratePerSecond, createdBy: createdBy
            ))
            return try send.requireID()
        } catch let problem as NewsletterSends.Problem {
            throw Failure(description: problem.description)
        }
    }

    /// Sends one copy, as a paying member would receive it, to one address, now: to check an
    /// issue before it goes to everyone. Nothing is recorded against any list.
    public static func testSend(app: Application, settings: Settings, newsletter slug: String, articles articleSlugs: [String], subject: String?, intro: String, to address: String) async throws {
        guard let recipient = EmailAddress.normalized(address) else { throw Failure(description: "\(address) is not an email address") }
        let list = try await newsletters([slug], on: app.db)[0]
        let articles = try await published(articleSlugs, preferring: list.edition, on: app.db)
        let send = NewsletterSend()
        send.id = UUID()
        send.alert = false
        send.subject = "[Test] " + (subject ?? (articles.count == 1 ? articles[0].title : list.name))
        send.intro = intro
        send.articleIDs = try articles.map { try $0.requireID() }
        send.newsletterIDs = [try list.requireID()]
        let theme = try Theme.load(directory: settings.themeDirectory, editionCodes: settings.editionCodes)
        let email = try await NewsletterRenderer.render(send, newsletter: list, access: .paid, pages: SitePages(theme: theme, settings: settings), database: app.db)
        let signer = try settings.dkim?.signer()
        let transport = settings.smtp.map { SMTPTransport(configuration: $0, group: app.eventLoopGroup, heloName: URL(string: settings.publicURL)?.host ?? "localhost", signer: signer) as any MailTransport }
            ?? MailDropTransport(directory: settings.mailDropDirectory, logger: app.logger)
        _ = try await transport.send(email.message(to: .init(email: recipient), unsubscribeURL: settings.publicURL + NewsletterLinks.page(edition: theme.editions.defaultEdition)))
    }

    /// Where this process's newsletter delivery spent its time so far (nil when it delivers none).
    public static func timings(app: Application) async -> DeliveryTimings.Shares? {
        await app.storage[DeliveryTimingsKey.self]?.shares
    }

    /// Suppresses addresses (checked all first: one bad line and nothing changes); returns how
    /// many were not suppressed already.
    public static func suppress(app: Application, addresses: [String]) async throws -> Int {
        var emails: [String] = []
        for (index, address) in addresses.enumerated() {
            guard let email = EmailAddress.normalized(address) else { throw Failure(description: "line \(index + 1): '\(address.prefix(80))' is not an email address; nothing suppressed") }
            emails.append(email)
        }
        let unique = Set(emails)
        return try await app.db.writeTransaction { db in
            var added = 0
            for email in unique where try await MailSuppression.query(on: db).filter(\.$email == email).first() == nil {
                try await MailSuppression(email: email, reason: .manual, detail: "masthead newsletter suppress", createdAt: Date()).create(on: db)
                added += 1
            }
            return added
        }
    }

    /// Sends, newest first; or the one named.
    public static func status(app: Application, send id: UUID? = nil) async throws -> [SendSummary] {
        let sends = try await {
            if let id { return try await NewsletterSend.query(on: app.db).filter(\.$id == id).all() }
            return try await NewsletterSend.query(on: app.db).sort(\.$createdAt, .descending).range(..<20).all()
        }()
        if id != nil && sends.isEmpty { throw Failure(description: "no send \(id!.uuidString.lowercased())") }
        var summaries: [SendSummary] = []
        for send in sends {
            let progress = try await NewsletterSends(database: app.db, now: Date()).progress(of: send)
            summaries.append(SendSummary(
                id: try send.requireID(), subject: send.subject, status: send.status.rawValue, scheduledAt: send.scheduledAt,
                total: max(progress.total, send.recipients), sent: progress.sent, queued: progress.queued, failed: progress.failed,
                bounced: progress.bounced, skipped: progress.skipped, unconfirmed: progress.unconfirmed, unsubscribedSince: progress.unsubscribedSince
            ))
        }
        return summaries
    }

    private static func newsletters(_ slugs: [String], on database: any Database) async throws -> [Newsletter] {
        guard !slugs.isEmpty else { throw Failure(description: "name a newsletter with --newsletter SLUG") }
        var lists: [Newsletter] = []
        for slug in slugs {
            guard let list = try await Newsletter.query(on: database).filter(\.$slug == slug).first() else {
                throw Failure(description: "no newsletter '\(slug)' (masthead newsletter list shows them)")
            }
            lists.append(list)
        }
        return lists
    }

    private static func published(_ slugs: [String], preferring edition: String, on database: any Database) async throws -> [Article] {
        guard !slugs.isEmpty else { throw Failure(description: "name an article with --article SLUG") }
        var articles: [Article] = []
        for slug in slugs {
            let found = try await Article.query(on: database).filter(\.$slug == slug).filter(\.$status == .published).all()
            guard let article = found.first(where: { $0.edition == edition }) ?? found.first else {
                throw Failure(description: "no published article '\(slug)'")
            }
            articles.append(article)
        }
        return articles
    }
}
