import Crypto
import Fluent
import Foundation
import Testing
@testable import Masthead

/// A story flagged as breaking: a banner across its edition's pages on every instance for the
/// time the editor chose, and an alert by email that carries no gated text.
@Suite("Breaking news", .serialized)
struct BreakingNewsTests {
    @Test("a flagged story's banner appears on every page of its edition on two instances, not on another edition's, and comes down when the editor ends it", arguments: TestDatabase.available)
    func bannerOnEveryInstance(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            try await site.withSecondInstance { second in
                let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
                let other = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
                let pages = ["/", "/articles/\(other.slug)", "/news"]
                for instance in [site, second] {
                    for path in pages + ["/ar/"] { #expect(try await !instance.get(path).body.contains("breaking-banner")) }
                }

                let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
                let desk = "/admin/articles/\(article.id!)/breaking"
                let flagged = try await editor.submit(try await editor.get(desk), action: desk, ["headline": "Iraqi forces retake the crossing", "minutes": "60"])
                #expect(flagged.status == .seeOther)

                for instance in [site, second] {
                    for path in pages {
                        #expect(try await eventually { try await instance.get(path).body.contains("Iraqi forces retake the crossing") }, "\(path) on \(instance.baseURL)")
                    }
                    let home = try await instance.get("/").body
                    let banner = try #require(HTML.section(of: home, from: "<aside class=\"breaking-banner\"", to: "</aside>"))
                    #expect(banner.contains(">Breaking</strong>") && banner.contains("href=\"/articles/\(article.slug)\""))
                    #expect(try await !instance.get("/ar/").body.contains("breaking-banner"))
                }
                #expect(try await AuditEvent.query(on: site.app.db).filter(\.$action == "flagged as breaking").count() == 1)

                let ended = try await editor.submit(try await editor.get(desk), action: "\(desk)/end")
                #expect(ended.status == .seeOther)
                for instance in [site, second] {
                    #expect(try await eventually { try await !instance.get("/").body.contains("breaking-banner") }, "on \(instance.baseURL)")
                }
            }
        }
    }

    @Test("a banner comes down on its own when its time is up, on every instance, and its expiry is announced once", arguments: TestDatabase.available)
    func bannerExpires(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            try await site.withSecondInstance { second in
                let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
                let staff = try await Newsroom.hire(site, .editor)
                let banner = try await BreakingDesk(database: site.app.db, now: Date()).flag(article, .init(headline: "", minutes: 1, emailAlert: false), by: staff)
                for instance in [site, second] {
                    #expect(try await eventually { try await instance.get("/").body.contains("breaking-banner") }, "on \(instance.baseURL)")
                }
                // A minute is long for a test: the banner's time is brought forward to a moment from now.
                banner.endsAt = Date().addingTimeInterval(1)
                try await banner.save(on: site.app.db)
                try await ContentGeneration.bump(on: site.app.db, purging: .everything)
                let generation = try await ContentGeneration.current(on: site.app.db)

                for instance in [site, second] {
                    #expect(try await eventually { try await !instance.get("/").body.contains("breaking-banner") }, "on \(instance.baseURL)")
                }
                #expect(try await BreakingNews.find(banner.id, on: site.app.db)?.expiryNoted == true)
                #expect(try await ContentGeneration.current(on: site.app.db) == generation + 1, "one instance announced the expiry")
            }
        }
    }

    @Test("the email alert goes to the edition's breaking-news list as the headline and a link: a paying subscriber gets none of the story's text either", arguments: TestDatabase.available)
    func emailAlertCarriesNoText(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.smtp = smtp.configuration; $0.developmentMail = false }) { site in
            let paid = Member(email: "paying@example.com", name: "Paying")
            paid.paidUntil = Date().addingTimeInterval(86_400 * 30)
            try await paid.create(on: site.app.db)
            let alerts = try await Newsletters.list(site, "breaking-news")
            #expect(alerts.breakingAlerts)
            try await Newsletters.subscribe(["paying@example.com", "stranger@example.com"], to: alerts, on: site)
            try await Newsletters.subscribe(["briefing-only@example.com"], to: try await Newsletters.list(site), on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let desk = "/admin/articles/\(article.id!)/breaking"
            let form = try await editor.get(desk)
            #expect(form.body.contains("Breaking News (2 subscribers)"))
            let flagged = try await editor.submit(form, action: desk, ["headline": "Crossing retaken", "minutes": "30", "email_alert": "1"])
            #expect(flagged.status == .seeOther)

            #expect(try await waitUntil { try smtp.messages().count == 2 })
            let gated = DemoArticles.gatedSentences(of: article)
            #expect(!gated.isEmpty)
            for reader in ["paying@example.com", "stranger@example.com"] {
                let message = try #require(try smtp.messages(to: reader).first)
                #expect(message.headers["subject"] == "Crossing retaken")
                #expect(message.text?.contains("/articles/\(article.slug)") == true)
                for sentence in gated {
                    #expect(message.text?.contains(sentence) == false, "\(reader) got the story's text")
                    #expect(message.html?.contains(sentence) == false, "\(reader) got the story's text")
                }
            }
            #expect(try smtp.messages(to: "briefing-only@example.com").isEmpty)
            #expect(try await NewsletterSend.query(on: site.app.db).filter(\.$alert == true).count() == 1)
        }
    }

    @Test("taking a banner down stops its alerts that have not gone, by email and by push; an author may not flag a story, and a story already up cannot be flagged twice", arguments: [TestDatabase.sqlite])
    func takingDownStopsAlerts(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.backgroundJobs = false; $0.pushServices = PushServices(hosts: ["push.example"]) }) { site in
            try await PushSubscriptions(database: site.app.db, services: site.settings.pushServices, now: Date()).subscribe(
                endpoint: "https://push.example/send/1", p256dh: P256.KeyAgreement.PrivateKey().publicKey.x963Representation.base64URLEncoded(),
                auth: Data(repeating: 7, count: 16).base64URLEncoded(), edition: "en", memberID: nil, clientAddress: "127.0.0.1"
            )
            try await Newsletters.subscribe(["reader@example.com"], to: try await Newsletters.list(site, "breaking-news"), on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let desk = "/admin/articles/\(article.id!)/breaking"

            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            #expect(try await author.get(desk).status == .forbidden)

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let form = try await editor.get(desk)
            let flagged = try await editor.submit(form, action: desk, ["headline": "Wrong story", "minutes": "60", "email_alert": "1", "push_alert": "1"])
            #expect(flagged.status == .seeOther)
            let again = try await editor.submit(form, action: desk, ["headline": "Wrong story", "minutes": "60", "email_alert": "1", "push_alert": "1"])
            #expect(again.status == .unprocessableEntity && again.body.contains("banner already"))
            #expect(try await NewsletterSend.query(on: site.app.db).filter(\.$alert == true).count() == 1)
            #expect(try await PushDelivery.query(on: site.app.db).filter(\.$status == .queued).count() == 1)

            _ = try await editor.submit(try await editor.get(desk), action: "\(desk)/end")
            #expect(try await PushDelivery.query(on: site.app.db).all().map(\.status) == [.cancelled])
            #expect(try await NewsletterSend.query(on: site.app.db).filter(\.$alert == true).first()?.status == .cancelled)
            #expect(try await NewsletterDelivery.query(on: site.app.db).filter(\.$status == .queued).count() == 0)
        }
    }

    @Test("flagging a story that is not published, for no time, or with an email alert and no list to send it to is refused with a reason, and nothing is flagged", arguments: [TestDatabase.sqlite])
    func refusals(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let desk = "/admin/articles/\(article.id!)/breaking"
            let noTime = try await editor.submit(try await editor.get(desk), action: desk, ["headline": "Crossing retaken", "minutes": "0"])
            #expect(noTime.status == .unprocessableEntity && noTime.body.contains("between a minute and a day"))
            let twoLines = try await editor.submit(try await editor.get(desk), action: desk, ["headline": "Crossing\nretaken", "minutes": "30"])
            #expect(twoLines.status == .unprocessableEntity && twoLines.body.contains("one line"))

            for list in try await Newsletter.query(on: site.app.db).filter(\.$breakingAlerts == true).all() {
                list.active = false
                try await list.save(on: site.app.db)
            }
            let noList = try await editor.submit(try await editor.get(desk), action: desk, ["headline": "Crossing retaken", "minutes": "30", "email_alert": "1"])
            #expect(noList.status == .unprocessableEntity && noList.body.contains("No active newsletter of this edition carries breaking-news alerts"))

            article.status = .draft
            try await article.save(on: site.app.db)
            let draft = try await editor.submit(try await editor.get(desk), action: desk, ["headline": "Crossing retaken", "minutes": "30"])
            #expect(draft.status == .unprocessableEntity && draft.body.contains("Only a published story"))
            #expect(try await BreakingNews.query(on: site.app.db).count() == 0)
        }
    }
}

extension BreakingNewsTests {
    /// Puts up a banner on each edition named, so pages are checked as readers see them while a
    /// story breaks.
    static func flagBanners(_ site: TestSite, editions: [String]) async throws {
        let staff = try await Newsroom.hire(site, .editor, email: "breaking-desk@newsroom.example")
        for edition in editions {
            let article = try await DemoArticles.first(on: site, edition: edition, visibility: .public)
            _ = try await BreakingDesk(database: site.app.db, now: Date()).flag(article, .init(headline: "", minutes: 60, emailAlert: false), by: staff)
        }
        #expect(try await eventually { try await site.get("/").body.contains("breaking-banner") })
    }
}
