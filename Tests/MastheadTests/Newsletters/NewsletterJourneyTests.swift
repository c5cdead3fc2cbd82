import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// A reader subscribes, confirms, receives, and unsubscribes with one click, over a real SMTP
/// server on 127.0.0.1.
@Suite("Newsletters: subscribing and receiving", .serialized)
struct NewsletterJourneyTests {
    @Test("subscribe from the site, confirm by email, receive a send, unsubscribe with one click, receive nothing more", arguments: TestDatabase.available)
    func journey(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.smtp = smtp.configuration; $0.developmentMail = false }) { site in
            let browser = TestBrowser(site: site)
            let page = try await browser.get("/newsletters")
            #expect(page.status == .ok)
            #expect(page.body.contains("The Daily Briefing") && page.body.contains("النشرة اليومية"))
            let asked = try await browser.post("/newsletters/subscribe", form: ["email": "Reader@Example.com", "newsletter[]": "daily-briefing", "edition": "en"], origin: site.baseURL)
            #expect(asked.status == .ok)
            #expect(asked.body.contains("Check your email"))

            #expect(try await waitUntil { try smtp.messages(to: "reader@example.com").count == 1 })
            let confirmation = try #require(try smtp.messages(to: "reader@example.com").first)
            #expect(confirmation.defects.isEmpty)
            let link = try #require(confirmation.link(containing: "/newsletters/confirm"))
            let confirmPage = try await browser.get(String(link.dropFirst("https://news.example".count)))
            #expect(confirmPage.body.contains("Subscribe reader@example.com to The Daily Briefing?"))
            let confirmed = try await browser.submit(confirmPage, action: "/newsletters/confirm")
            #expect(confirmed.body.contains("You are subscribed"))

            let briefing = try await Newsletters.list(site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let first = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Monday's briefing")
            #expect(try await waitUntil { try smtp.messages(to: "reader@example.com").count == 2 })
            let issue = try #require(try smtp.messages(to: "reader@example.com").last)
            #expect(issue.defects.isEmpty)
            #expect(issue.headers["subject"] == "Monday's briefing")
            #expect(issue.headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click")
            #expect(issue.headers["list-id"]?.contains("<daily-briefing.news.example>") == true)
            #expect(issue.html?.contains("<html lang=\"en\" dir=\"ltr\">") == true)
            #expect(issue.text?.contains(article.title.uppercased()) == true)
            #expect(issue.html?.contains("/newsletters/view/\(first.id!.uuidString.lowercased())") == true)
            let unsubscribe = try #require(issue.headers["list-unsubscribe"]?.trimmingCharacters(in: CharacterSet(charactersIn: "<>")))
            #expect(unsubscribe.hasPrefix("https://news.example/newsletters/unsubscribe/"))
            #expect(try await waitUntil { try await Newsletters.status(site, first) == .sent })

            // RFC 8058: the mail client posts once, with no cookie and no token.
            let oneClick = try await site.app.client.post(URI(string: site.baseURL + unsubscribe.dropFirst("https://news.example".count))) { request in
                request.headers.contentType = .urlEncodedForm
                request.body = ByteBuffer(string: "List-Unsubscribe=One-Click")
            }
            #expect(oneClick.status == .ok)
            let subscription = try #require(try await NewsletterSubscription.query(on: site.app.db).filter(\.$email == "reader@example.com").first())
            #expect(subscription.status == .unsubscribed)

            let second = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Tuesday's briefing")
            #expect(try await waitUntil { try await Newsletters.status(site, second) == .sent })
            #expect(try smtp.messages(to: "reader@example.com").count == 2)
        }
    }

    @Test("the subscribe form refuses a post from another site, or one that does not say where it comes from", arguments: [TestDatabase.sqlite])
    func originChecked(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = TestBrowser(site: site)
            let form = ["email": "someone@example.com", "newsletter[]": "daily-briefing", "edition": "en"]
            #expect(try await browser.post("/newsletters/subscribe", form: form, origin: "https://evil.example").status == .forbidden)
            let noOrigin = try await site.app.client.post(URI(string: site.baseURL + "/newsletters/subscribe")) { request in
                request.headers.contentType = .urlEncodedForm
                request.body = ByteBuffer(string: "email=someone%40example.com&newsletter[]=daily-briefing&edition=en")
            }
            #expect(noOrigin.status == .forbidden)
            #expect(try await NewsletterSubscription.query(on: site.app.db).count() == 0)
        }
    }

    @Test("the form sends an address at most three confirmations an hour, however often it is posted", arguments: [TestDatabase.sqlite])
    func confirmationsLimited(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            for attempt in 1...6 {
                let browser = TestBrowser(site: site)
                let answer = try await browser.post("/newsletters/subscribe", form: ["email": "victim@example.com", "newsletter[]": "daily-briefing", "edition": "en", "name": "Attempt \(attempt)"], origin: site.baseURL)
                #expect(answer.status == .ok)
                #expect(answer.body.contains("Check your email"))
            }
            let sent = try await OutboxMessage.query(on: site.app.db).filter(\.$purpose == "newsletter.confirm").all()
            #expect(sent.count == 3)
            #expect(sent.allSatisfy { $0.toName == nil })
        }
    }

    @Test("a bad address or no list chosen is refused with the reason, and nothing is written", arguments: [TestDatabase.sqlite])
    func refused(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = TestBrowser(site: site)
            let bad = try await browser.post("/newsletters/subscribe", form: ["email": "nope", "newsletter[]": "daily-briefing", "edition": "en"], origin: site.baseURL)
            #expect(bad.status == .badRequest)
            #expect(bad.body.contains("Please give your email address"))
            let none = try await browser.post("/newsletters/subscribe", form: ["email": "a@example.com", "edition": "ar"], origin: site.baseURL)
            #expect(none.status == .badRequest)
            #expect(none.body.contains("يُرجى اختيار نشرة واحدة على الأقل"))
            #expect(try await NewsletterSubscription.query(on: site.app.db).count() == 0)
        }
    }

    @Test("a new member gets the lists meant for new members, and chooses on their account page", arguments: [TestDatabase.sqlite])
    func memberChoices(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = try await TestModeJourneyTests.signedInReader(site, email: "member@example.com")
            let account = try await browser.get("/account")
            #expect(account.body.contains("id=\"account-newsletter-daily-briefing\" type=\"checkbox\" name=\"newsletter[]\" value=\"daily-briefing\" checked"))
            let saved = try await browser.submit(account, action: "/account/newsletters", ["newsletter[]": "weekly-analysis"])
            #expect(saved.status == .seeOther)
            let rows = try await NewsletterSubscription.query(on: site.app.db).filter(\.$email == "member@example.com").with(\.$newsletter).all()
            #expect(Dictionary(uniqueKeysWithValues: rows.map { ($0.newsletter.slug, $0.status) }) == ["daily-briefing": .unsubscribed, "weekly-analysis": .active])
        }
    }
}
