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

    @Test("a Content API client reads no more than its key allows: a public key no gated text, a members key no paid text", arguments: TestDatabase.available)
    func apiFindsNoLeaks(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let articles = try await DemoArticles.all(on: site)
            let readable = LeakDetector.readableText(of: articles)
            let memberReadable = readable + "\n" + articles.filter { $0.visibility == .members }.map(\.markdownSource).joined(separator: "\n")
            let cases: [(APIIntegration.Access, [LeakDetector.Secret])] = [
                (.public, LeakDetector.secrets(of: articles.filter { $0.visibility != .public }, readableText: readable)),
                (.members, LeakDetector.secrets(of: articles.filter { $0.visibility == .paid }, readableText: memberReadable)),
            ]
            for (access, secrets) in cases {
                #expect(secrets.count > 50)
                let key = try await ContentAPITests.key(site, access)
                var answers: [String: TestSite.Page] = [:]
                for page in 1...3 {
                    let path = "/articles?limit=25&page=\(page)"
                    answers[path] = try await ContentAPITests.get(site, path, key: key).0
                }
                for article in articles where article.status == .published {
                    let path = "/articles/\(article.id!.uuidString)"
                    answers[path] = try await ContentAPITests.get(site, path, key: key).0
                }
                #expect(answers.values.filter { $0.status == .ok }.count > 40)
                #expect(LeakDetector.leaks(in: answers, secrets: secrets).isEmpty, "\(access) key")
            }
        }
    }

    @Test("search finds nothing by gated words and shows no gated text in its snippets, to an anonymous reader or a free member", arguments: TestDatabase.available)
    func searchFindsNoLeaks(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let articles = try await DemoArticles.all(on: site)
            let topics = try await Topic.query(on: site.app.db).with(\.$names).all()
            let authors = try await Author.query(on: site.app.db).all()
            // What search may match for anyone besides the readable bodies: titles, deks and names.
            let labels = articles.flatMap { [$0.title, $0.dek] } + topics.flatMap { $0.names.map(\.name) + $0.aliasList } + authors.map(\.name)
            let readable = LeakDetector.readableText(of: articles) + "\n" + labels.joined(separator: "\n")
            let memberReadable = readable + "\n" + articles.filter { $0.visibility == .members }.map(\.markdownSource).joined(separator: "\n")
            let anonymous = TestBrowser(site: site)
            let member = try await TestModeJourneyTests.signedInReader(site, email: "free@example.com")
            let cases: [(String, TestBrowser, [Article], String)] = [
                ("anonymous", anonymous, articles.filter { $0.visibility != .public }, readable),
                ("free member", member, articles.filter { $0.visibility == .paid }, memberReadable),
            ]
            for (who, browser, gated, readableText) in cases {
                let secrets = LeakDetector.secrets(of: gated, readableText: readableText)
                #expect(secrets.count > 50)
                let readableWords = Set(SearchText.tokens(readableText))
                var answers: [String: TestSite.Page] = [:]
                var foundByGatedWord: [String] = []
                for article in gated where article.hasGatedText {
                    let prefix = article.edition == "en" ? "" : "/\(article.edition)"
                    let hidden = DemoArticles.gatedSentences(of: article).flatMap { sentence in
                        SearchText.words(sentence).filter { $0.token.count >= 6 && !readableWords.contains($0.token) }.map { String(sentence[$0.range]) }
                    }
                    for word in hidden.prefix(3) {
                        let query = word + " "
                        let path = "\(prefix)/search?q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                        let page = try await browser.get(path)
                        answers[path] = page
                        if page.body.contains("class=\"search-result\"") { foundByGatedWord.append(path) }
                    }
                    // The article's own title finds it, with a snippet that must come from its preview.
                    let title = "\(prefix)/search?q=\(article.title.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                    answers[title] = try await browser.get(title)
                }
                #expect(answers.count > 20, "\(who)")
                #expect(foundByGatedWord.isEmpty, "\(who) found articles by gated words: \(foundByGatedWord)")
                #expect(LeakDetector.leaks(in: answers, secrets: secrets).isEmpty, "\(who)")
            }
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

    @Test("the leak test finds gated text escaped into every feed format", arguments: [TestDatabase.sqlite])
    func catchesLeakInFeeds(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let article = try #require(try await PublishedArticles(database: site.app.db).article(edition: "en", slug: paid.slug))
            let wrongDecision = AccessPolicy.decide(article: article, viewer: .paidMember, meter: .none)
            let gatedHTML = try #require(try await article.gatedText(for: wrongDecision, on: site.app.db)).html
            let item = Feed.Item(
                id: "urn:uuid:\(UUID())", url: "https://news.example/", title: article.title, summary: article.dek,
                contentHTML: article.previewHTML + gatedHTML, isAccessibleForFree: false, published: Date(), modified: Date(),
                authors: [], categories: [], language: "en", image: nil
            )
            let feed = Feed(
                title: "Leaky", description: "", language: "en", basePath: "/", homeURL: "https://news.example/", siteName: "Leaky",
                publicURL: "https://news.example", logoURL: nil, items: [item]
            )
            for format in FeedFormat.allCases {
                let body = format.write(feed)
                let page = TestSite.Page(status: .ok, headers: [:], body: body, bytes: .init(string: body))
                #expect(!LeakDetector.leaks(in: [format.fileName: page], secrets: LeakDetector.secrets(of: [paid])).isEmpty, "\(format)")
            }
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

    /// Every (page, sentence) where a secret sentence appears, in any reading of the body.
    static func leaks(in pages: [String: TestSite.Page], secrets: [Secret]) -> [(page: String, secret: Secret)] {
        let needles = secrets.map { Array($0.sentence.utf8) }
        return pages.flatMap { path, page in
            let readings = readings(of: page.body).map { Array($0.utf8) }
            return secrets.indices.filter { index in readings.contains { contains($0, needles[index]) } }.map { (path, secrets[$0]) }
        }
    }

    /// A byte search through the C library, so hundreds of pages against hundreds of sentences
    /// stay quick even in a debug build.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return haystack.withUnsafeBytes { text in
            needle.withUnsafeBytes { sentence in
                guard let base = text.baseAddress, let wanted = sentence.baseAddress else { return false }
                var offset = 0
                while text.count - offset >= sentence.count {
                    guard let found = memchr(base + offset, Int32(first), text.count - offset - sentence.count + 1) else { return false }
                    if memcmp(found, wanted, sentence.count) == 0 { return true }
                    offset = base.distance(to: UnsafeRawPointer(found)) + 1
                }
                return false
            }
        }
    }

    /// The body as a reader of any format sees it: entities decoded as often as they were
    /// encoded (a feed's `content:encoded` is HTML escaped into XML), tags removed, and each
    /// string of a JSON document (a JSON Feed, an API answer) read the same way.
    static func readings(of body: String) -> [String] {
        var texts = [body]
        if let data = body.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) {
            texts.append(strings(in: json).joined(separator: "\n"))
        }
        return texts.flatMap { text -> [String] in
            var decoded = text
            for _ in 0..<3 { decoded = HTML.unescape(decoded) }
            return [decoded, HTML.text(of: decoded)]
        }
    }

    private static func strings(in json: Any) -> [String] {
        switch json {
        case let text as String: [text]
        case let array as [Any]: array.flatMap(strings(in:))
        case let object as [String: Any]: object.values.flatMap(strings(in:))
        default: []
        }
    }
}
