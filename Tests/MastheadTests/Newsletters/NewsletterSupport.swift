import Fluent
import Foundation
import SQLKit
@testable import Masthead

/// Waits up to `seconds` for a condition: deliveries run in the background.
func waitUntil(seconds: Int = 30, _ check: () async throws -> Bool) async throws -> Bool {
    for _ in 0..<(seconds * 10) {
        if try await check() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}

enum Newsletters {
    static func list(_ site: TestSite, _ slug: String = "daily-briefing") async throws -> Newsletter {
        guard let list = try await Newsletter.query(on: site.app.db).filter(\.$slug == slug).first() else { throw TestSupportError("no newsletter \(slug)") }
        return list
    }

    /// Active subscribers, written straight to the database (as an import of confirmed addresses would).
    static func subscribe(_ emails: [String], to list: Newsletter, on site: TestSite) async throws {
        let id = try list.requireID()
        for email in emails {
            let member = try await MemberAccounts(database: site.app.db).find(email: email)
            try await NewsletterSubscription(newsletterID: id, email: email, name: "", memberID: member?.id, status: .active, source: .import_, createdAt: Date()).create(on: site.app.db)
        }
    }

    static func send(_ site: TestSite, articles: [Article], to lists: [Newsletter], subject: String, rate: Int = 0) async throws -> NewsletterSend {
        try await NewsletterSends(database: site.app.db, now: Date()).create(.init(
            subject: subject, intro: "Good morning.", articleIDs: try articles.map { try $0.requireID() }, newsletterIDs: try lists.map { try $0.requireID() },
            scheduledAt: nil, ratePerSecond: rate, createdBy: "test"
        ))
    }

    /// A delivery worker of the test's own, beside (or instead of) the site's.
    static func deliverer(_ site: TestSite, smtp: TestSMTPServer, settings: NewsletterSettings = NewsletterSettings(), heloName: String = "test.worker") throws -> NewsletterDeliverer {
        NewsletterDeliverer(
            database: site.app.db, connector: SMTPTransport(configuration: smtp.configuration, heloName: heloName), settings: settings,
            renderer: NewsletterRenderer(pages: SitePages(theme: try Theme.load(directory: site.settings.themeDirectory, editionCodes: site.settings.editionCodes), settings: site.settings), database: site.app.db),
            links: NewsletterLinks(key: try SiteSecret.load(site.settings), publicURL: site.settings.publicURL), pacer: SendPacer(), logger: site.app.logger
        )
    }

    static func status(_ site: TestSite, _ send: NewsletterSend) async throws -> NewsletterSend.Status? {
        try await NewsletterSend.find(send.requireID(), on: site.app.db)?.status
    }
}
