import Foundation
import Testing
@testable import Masthead

@Suite("Home and listing pages", .serialized)
struct ListingTests {
    @Test("the English home leads with the newest story and links every section", arguments: TestDatabase.available)
    func englishHome(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let newest = try await PublishedArticles(database: site.app.db).latest(edition: "en", limit: 1)
            let page = try await site.get("/")

            #expect(page.status == .ok)
            #expect(page.body.contains("<html lang=\"en\" dir=\"ltr\">"))
            let lead = try #require(HTML.section(of: page.body, from: "<section class=\"home-lead\"", to: "</section>"))
            #expect(lead.contains("/articles/\(try #require(newest.first).slug)"))
            let links = Set(HTML.internalLinks(in: page.body))
            #expect(links.isSuperset(of: ["/news", "/analysis", "/memos", "/reports", "/ar/"]))
        }
    }

    @Test("the Arabic home is its own edition at /ar/, right-to-left", arguments: TestDatabase.available)
    func arabicHome(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let page = try await site.get("/ar/")

            #expect(page.status == .ok)
            #expect(page.body.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(page.body.contains("آخر الأخبار"))
            let articleLinks = HTML.internalLinks(in: page.body).filter { $0.contains("/articles/") }
            #expect(!articleLinks.isEmpty)
            #expect(articleLinks.allSatisfy { $0.hasPrefix("/ar/articles/") })
        }
    }

    @Test("a kind listing pages through its articles, newest first", arguments: TestDatabase.available)
    func kindPagination(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let first = try await site.get("/news")
            let second = try await site.get("/news?page=2")

            #expect(first.status == .ok)
            #expect(first.body.contains("rel=\"next\" href=\"/news?page=2\""))
            #expect(second.status == .ok)
            #expect(second.body.contains("rel=\"prev\" href=\"/news\""))
            let firstPage = Set(HTML.internalLinks(in: first.body).filter { $0.hasPrefix("/articles/") })
            let secondPage = Set(HTML.internalLinks(in: second.body).filter { $0.hasPrefix("/articles/") })
            #expect(!secondPage.isEmpty)
            #expect(firstPage.isDisjoint(with: secondPage))
        }
    }

    @Test("a bad page number is a 400 and a page past the end a 404", arguments: TestDatabase.available)
    func badPageNumbers(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let notANumber = try await site.get("/news?page=two")
            #expect(notANumber.status == .badRequest)
            #expect(notANumber.body.contains("The page number must be a whole number"))
            #expect(try await site.get("/news?page=0").status == .badRequest)
            #expect(try await site.get("/news?page=-3").status == .badRequest)
            #expect(try await site.get("/news?page=999").status == .notFound)
            #expect(try await site.get("/ar/analysis?page=x").body.contains("يجب أن يكون رقم الصفحة"))
        }
    }

    @Test("topic and author pages list their articles in the reader's edition", arguments: TestDatabase.available)
    func topicAndAuthor(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let articlePage = try await site.get("/articles/\(article.slug)")
            let topicPath = try #require(HTML.internalLinks(in: articlePage.body).first { $0.hasPrefix("/topics/") })
            let authorPath = try #require(HTML.internalLinks(in: articlePage.body).first { $0.hasPrefix("/authors/") })

            let topic = try await site.get(topicPath)
            #expect(topic.status == .ok)
            #expect(topic.body.contains("/articles/\(article.slug)"))
            let author = try await site.get(authorPath)
            #expect(author.status == .ok)
            #expect(author.body.contains("/articles/\(article.slug)"))
            #expect(author.body.contains("class=\"listing-header__photo\""))

            let arabicTopic = try await site.get("/ar" + topicPath)
            #expect(arabicTopic.status == .ok)
            #expect(arabicTopic.body.contains("dir=\"rtl\""))
            #expect(try await site.get("/topics/no-such-topic").status == .notFound)
            #expect(try await site.get("/authors/no-such-author").status == .notFound)
        }
    }

    @Test("an empty site still serves its home and listings", arguments: TestDatabase.available)
    func emptySite(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            #expect(try await site.get("/").status == .ok)
            let news = try await site.get("/news")
            #expect(news.status == .ok)
            #expect(news.body.contains("Nothing has been published here yet."))
        }
    }
}
