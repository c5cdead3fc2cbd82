import Foundation
import Testing
@testable import Masthead

@Suite("The article page", .serialized)
struct ArticlePageTests {
    @Test("shows headline, dek, figure, byline and dates", arguments: TestDatabase.available)
    func anatomy(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let page = try await site.get("/articles/\(article.slug)")

            #expect(page.status == .ok)
            #expect(page.body.contains("<html lang=\"en\" dir=\"ltr\">"))
            #expect(page.body.contains("<a class=\"skip-link\" href=\"#main\">Skip to main content</a>"))
            #expect(page.body.contains("<main id=\"main\""))
            #expect(HTML.count(of: "h1", in: page.body) == 1)
            #expect(page.body.contains("<h1 class=\"article__title\">\(escaped(article.title))</h1>"))
            #expect(page.body.contains(escaped(article.dek)))
            #expect(page.body.contains("<figcaption><span class=\"article__caption\">\(escaped(article.imageCaption))</span>"))
            #expect(HTML.attributeValues("datetime", of: "time", in: page.body).allSatisfy { ISO8601DateFormatter().date(from: $0) != nil })
            let authorLinks = HTML.internalLinks(in: page.body).filter { $0.hasPrefix("/authors/") }
            #expect(!authorLinks.isEmpty)
        }
    }

    @Test("a public article shows its whole body", arguments: TestDatabase.available)
    func publicArticleIsWhole(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let page = try await site.get("/articles/\(article.slug)")

            let text = HTML.text(of: page.body)
            let sentences = DemoArticles.gatedSentences(of: article)
            #expect(!sentences.isEmpty)
            for sentence in sentences {
                #expect(text.contains(sentence))
            }
            #expect(!page.body.contains("class=\"paywall\""))
        }
    }

    @Test("a paid article shows an anonymous reader its preview and a call to join, never the rest", arguments: TestDatabase.available)
    func paidArticleIsGated(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let page = try await site.get("/articles/\(article.slug)")

            #expect(page.status == .ok)
            #expect(page.body.contains("class=\"paywall\""))
            #expect(page.body.contains("Only $100 per year."))
            #expect(!page.body.contains("article__gated\">"))
            let sentences = DemoArticles.gatedSentences(of: article)
            #expect(!sentences.isEmpty)
            let text = HTML.text(of: page.body)
            for sentence in sentences {
                #expect(!text.contains(sentence), "gated text leaked: \(sentence)")
            }
        }
    }

    @Test("carries canonical, Open Graph, Twitter and NewsArticle metadata", arguments: TestDatabase.available)
    func metadata(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let page = try await site.get("/articles/\(article.slug)")
            let url = "https://news.example/articles/\(article.slug)"

            #expect(HTML.attributeValues("href", of: "link rel=\"canonical\"", in: page.body) == [url])
            #expect(HTML.meta("og:url", in: page.body) == url)
            #expect(HTML.meta("og:title", in: page.body) == article.title)
            #expect(HTML.meta("og:type", in: page.body) == "article")
            #expect(HTML.meta("twitter:card", in: page.body) == "summary_large_image")
            let json = try #require(HTML.section(of: page.body, from: "<script type=\"application/ld+json\">", to: "</script>"))
            let structured = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(structured["@type"] as? String == "NewsArticle")
            #expect(structured["headline"] as? String == article.title)
            #expect(structured["isAccessibleForFree"] as? Bool == false)
            let part = try #require(structured["hasPart"] as? [String: Any])
            #expect(part["cssSelector"] as? String == ".article__gated")
        }
    }

    @Test("an Arabic article is right-to-left and links its English original", arguments: TestDatabase.available)
    func arabicTranslation(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.firstTranslated(on: site, edition: "ar")
            let page = try await site.get("/ar/articles/\(article.slug)")

            #expect(page.status == .ok)
            #expect(page.body.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(page.body.contains("انتقل إلى المحتوى الرئيسي"))
            let alternates = HTML.attributeValues("hreflang", of: "link rel=\"alternate\"", in: page.body)
            #expect(Set(alternates) == ["ar", "en"])
            let englishLinks = HTML.internalLinks(in: page.body).filter { $0.hasPrefix("/articles/") }
            #expect(!englishLinks.isEmpty)
        }
    }

    @Test("an unknown or malformed slug is a 404 page in the reader's edition", arguments: TestDatabase.available)
    func unknownSlug(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let english = try await site.get("/articles/no-such-article")
            #expect(english.status == .notFound)
            #expect(english.body.contains("Page not found"))

            let arabic = try await site.get("/ar/articles/no-such-article")
            #expect(arabic.status == .notFound)
            #expect(arabic.body.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(arabic.body.contains("الصفحة غير موجودة"))

            #expect(try await site.get("/articles/..%2F..%2Fetc%2Fpasswd").status == .notFound)
            #expect(try await site.get("/articles/UPPER%20case").status == .notFound)
            #expect(try await site.get("/no/such/path").status == .notFound)
        }
    }
}

private func escaped(_ text: String) -> String { text.htmlEscapedForTest }

extension String {
    var htmlEscapedForTest: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
