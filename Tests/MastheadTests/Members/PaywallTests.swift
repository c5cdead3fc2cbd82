import Fluent
import Foundation
import Testing
@testable import Masthead

/// What each kind of reader sees of members-only and paid articles.
@Suite("The paywall", .serialized)
struct PaywallTests {
    @Test("a free member reads members-only articles but is invited to upgrade on paid ones", arguments: TestDatabase.available)
    func freeMember(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let membersOnly = try await DemoArticles.first(on: site, edition: "en", visibility: .members)
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let browser = TestBrowser(site: site)

            let anonymous = try await browser.get("/articles/\(membersOnly.slug)")
            #expect(anonymous.body.contains("class=\"paywall\""))
            #expect(anonymous.body.contains("/join?return=/articles/\(membersOnly.slug)"))

            try await browser.signIn(as: "free@example.com", smtp: smtp)
            let member = try await browser.get("/articles/\(membersOnly.slug)")
            #expect(!member.body.contains("class=\"paywall\""))
            let text = HTML.text(of: member.body)
            for sentence in DemoArticles.gatedSentences(of: membersOnly) {
                #expect(text.contains(sentence))
            }
            #expect(member.headers.first(name: .cacheControl) == "private, no-cache")
            #expect(member.body.contains(">Account</a>"))

            let paidPage = try await browser.get("/articles/\(paid.slug)")
            #expect(paidPage.body.contains("This article is for paying members"))
            let paidText = HTML.text(of: paidPage.body)
            for sentence in DemoArticles.gatedSentences(of: paid) {
                #expect(!paidText.contains(sentence))
            }
        }
    }

    @Test("a paying member reads paid articles in full", arguments: TestDatabase.available)
    func paidMember(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let member = Member(email: "subscriber@example.com", name: "Subscriber")
            member.paidUntil = Date().addingTimeInterval(365 * 24 * 3600)
            try await member.create(on: site.app.db)
            let browser = TestBrowser(site: site)
            try await browser.signIn(as: "subscriber@example.com", smtp: smtp)

            let page = try await browser.get("/articles/\(paid.slug)")
            #expect(!page.body.contains("class=\"paywall\""))
            #expect(page.body.contains("<div class=\"article__gated\">"))
            let text = HTML.text(of: page.body)
            for sentence in DemoArticles.gatedSentences(of: paid) {
                #expect(text.contains(sentence))
            }
            // The same URL, right after, for someone not signed in: the cache keeps them apart.
            let anonymous = try await site.get("/articles/\(paid.slug)")
            #expect(anonymous.body.contains("class=\"paywall\""))
        }
    }
}
