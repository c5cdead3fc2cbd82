import Fluent
import Foundation
import Testing
@testable import Masthead

/// The paywall as a security boundary: crawl everything a reader can reach and look for any
/// sentence of gated text they are not entitled to.
@Suite("No gated text leaks", .serialized)
struct LeakTests {
    @Test("an anonymous reader and a free member never receive text they may not read", arguments: TestDatabase.available)
    func crawlFindsNoLeaks(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let articles = try await DemoArticles.all(on: site)
            let readable = LeakDetector.readableText(of: articles)
            let anonymousSecrets = LeakDetector.secrets(of: articles.filter { $0.visibility != .public }, readableText: readable)
            let memberReadable = readable + "\n" + articles.filter { $0.visibility == .members }.map(\.markdownSource).joined(separator: "\n")
            let memberSecrets = LeakDetector.secrets(of: articles.filter { $0.visibility == .paid }, readableText: memberReadable)
            #expect(anonymousSecrets.count > 100)
            #expect(memberSecrets.count > 50)

            let anonymous = try await SiteCrawler.crawl(TestBrowser(site: site))
            #expect(anonymous.count > 60)
            #expect(LeakDetector.leaks(in: anonymous, secrets: anonymousSecrets).isEmpty)

            let member = TestBrowser(site: site)
            try await member.signIn(as: "free@example.com", smtp: smtp)
            let memberPages = try await SiteCrawler.crawl(member)
            #expect(memberPages.count > 60)
            #expect(LeakDetector.leaks(in: memberPages, secrets: memberSecrets).isEmpty)
        }
    }

    @Test("a reader who paid at checkout reads every paid article in full: the paywall is not too tight", arguments: TestDatabase.available)
    func payingMemberReadsEverything(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let payer = try await TestModeJourneyTests.signedInReader(site, email: "payer@example.com")
            let checkoutPath = try await TestModeJourneyTests.startCheckout(payer, plan: "yearly")
            _ = try await payer.submit(try await payer.get(checkoutPath), action: checkoutPath, ["outcome": "pay"])

            let paid = try await DemoArticles.all(on: site).filter { $0.visibility == .paid && $0.status == .published && $0.hasGatedText }
            #expect(paid.count > 5)
            let pages = try await SiteCrawler.crawl(payer)
            for article in paid {
                let path = (article.edition == "en" ? "" : "/\(article.edition)") + "/articles/\(article.slug)"
                let page = try #require(pages[path], "\(path) was not reached by the crawl")
                #expect(!page.body.contains("class=\"paywall\""), "\(path)")
                let text = HTML.text(of: page.body)
                for sentence in DemoArticles.gatedSentences(of: article) {
                    #expect(text.contains(sentence), "\(path) lacks: \(sentence)")
                }
            }
        }
    }

    @Test("the leak test catches a broken split", arguments: [TestDatabase.sqlite])
    func catchesBrokenSplit(database: TestDatabase) async throws {
        // With a preview of 100 paragraphs, every article without a paywall marker is shown whole.
        try await withSite(on: database, configure: { $0.previewParagraphs = 100 }) { site in
            let secrets = LeakDetector.secrets(of: try await DemoArticles.all(on: site).filter { $0.visibility == .paid })
            let pages = try await SiteCrawler.crawl(TestBrowser(site: site))
            #expect(!LeakDetector.leaks(in: pages, secrets: secrets).isEmpty)
        }
    }

    @Test("the leak test catches a broken decision", arguments: [TestDatabase.sqlite])
    func catchesBrokenDecision(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let article = try #require(try await PublishedArticles(database: site.app.db).article(edition: "en", slug: paid.slug))
            // A decision that wrongly grants the anonymous reader the full text.
            let wrongDecision = AccessPolicy.decide(article: article, viewer: .paidMember, meter: .none)
            let pages = SitePages(theme: try Theme.load(directory: site.settings.themeDirectory, editionCodes: site.settings.editionCodes), settings: site.settings)
            let gatedText = try await article.gatedText(for: wrongDecision, on: site.app.db)
            let html = try pages.articlePage(
                article, edition: pages.theme.editions.defaultEdition, access: wrongDecision, gatedText: gatedText,
                viewerLevel: .anonymous, related: [], translations: []
            )
            let page = TestSite.Page(status: .ok, headers: [:], body: html, bytes: .init(string: html))

            let leaks = LeakDetector.leaks(in: ["/articles/\(paid.slug)": page], secrets: LeakDetector.secrets(of: [paid]))
            #expect(!leaks.isEmpty)
        }
    }
}

enum LeakDetector {
    struct Secret {
        let article: String
        let sentence: String
    }

    /// Gated sentences of these articles, less any that the reader may see anyway because
    /// another article says the same thing where it is free to read.
    static func secrets(of articles: [Article], readableText: String = "") -> [Secret] {
        articles.flatMap { article in
            DemoArticles.gatedSentences(of: article)
                .filter { !readableText.contains($0) }
                .map { Secret(article: "\(article.edition)/\(article.slug)", sentence: $0) }
        }
    }

    /// Everything readers may read: public bodies, and every article's preview.
    static func readableText(of articles: [Article]) -> String {
        articles.map { article in
            article.visibility == .public
                ? article.markdownSource
                : ArticleBody.split(article.markdownSource, previewParagraphs: 3).preview
        }.joined(separator: "\n")
    }

    /// Every (page, sentence) where a secret sentence appears, in the raw body or its text.
    static func leaks(in pages: [String: TestSite.Page], secrets: [Secret]) -> [(page: String, secret: Secret)] {
        pages.flatMap { path, page in
            let raw = HTML.unescape(page.body)
            let text = HTML.text(of: page.body)
            return secrets.filter { raw.contains($0.sentence) || text.contains($0.sentence) }.map { (path, $0) }
        }
    }
}
