import Foundation
import Testing
@testable import Masthead

/// JSON-LD and Open Graph as search engines and social networks read them (through extruct).
@Suite("Structured data", .serialized)
struct StructuredDataTests {
    struct Extracted: @unchecked Sendable {
        let jsonLD: [[String: Any]]
        let openGraph: [String: Any]

        func document(_ type: String) -> [String: Any]? {
            jsonLD.first { $0["@type"] as? String == type }
        }
    }

    static func extract(_ site: TestSite, _ paths: [String]) async throws -> [String: Extracted] {
        let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/structured-data").path
        let result = try await ExternalTool.run("python3", [script] + paths.map { site.baseURL + $0 })
        #expect(result.status == 0, "structured-data: \(result.output.prefix(2000))")
        var pages: [String: Extracted] = [:]
        for line in result.output.split(separator: "\n") where line.hasPrefix("{") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let url = try #require(object["url"] as? String)
            pages[String(url.dropFirst(site.baseURL.count))] = Extracted(
                jsonLD: object["json-ld"] as? [[String: Any]] ?? [],
                openGraph: (object["opengraph"] as? [[String: Any]])?.first ?? [:]
            )
        }
        return pages
    }

    @Test("article pages name the headline, dates, authors, publisher and the paywall fields", .enabled(if: ExternalTool.available("python3")))
    func articles() async throws {
        try await withSite(on: .sqlite) { site in
            let publicArticle = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let arabic = try await DemoArticles.firstTranslated(on: site, edition: "ar")
            let pages: [(String, Article, String)] = [
                ("/articles/\(publicArticle.slug)", publicArticle, "en"), ("/articles/\(paid.slug)", paid, "en"),
                ("/ar/articles/\(arabic.slug)", arabic, "ar"),
            ]
            let extracted = try await Self.extract(site, pages.map(\.0))
            let publicURL = site.settings.publicURL
            for (path, article, language) in pages {
                let page = try #require(extracted[path], "\(path)")
                let news = try #require(page.document("NewsArticle"), "\(path) has no NewsArticle")
                #expect(news["headline"] as? String == article.title)
                #expect(news["description"] as? String == article.dek)
                #expect(news["inLanguage"] as? String == language)
                #expect(news["datePublished"] as? String == EditionDates.iso(article.publishedAt!))
                #expect(news["dateModified"] as? String == EditionDates.iso(article.lastModified!))
                #expect((news["image"] as? [String])?.first == "\(publicURL)/media/\(article.imagePath!)")
                let authors = try #require(news["author"] as? [[String: Any]])
                #expect(!authors.isEmpty && authors.allSatisfy { ($0["url"] as? String)?.hasPrefix(publicURL + (language == "en" ? "" : "/ar") + "/authors/") == true })
                let publisher = try #require(news["publisher"] as? [String: Any])
                #expect(publisher["name"] as? String == site.settings.siteName)
                #expect(((publisher["logo"] as? [String: Any])?["url"] as? String)?.hasPrefix(publicURL + "/") == true)
                let free = article.visibility == .public
                #expect(news["isAccessibleForFree"] as? Bool == free)
                let part = news["hasPart"] as? [String: Any]
                #expect((part == nil) == free)
                if let part {
                    #expect(part["isAccessibleForFree"] as? Bool == false)
                    #expect(part["cssSelector"] as? String == ".article__gated")
                }

                let crumbs = try #require(page.document("BreadcrumbList")?["itemListElement"] as? [[String: Any]])
                #expect(crumbs.map { $0["position"] as? Int } == [1, 2, 3])
                #expect(crumbs.last?["item"] as? String == publicURL + path)
                #expect(crumbs.first?["item"] as? String == publicURL + (language == "en" ? "/" : "/ar/"))

                #expect(page.openGraph["og:title"] as? String == article.title)
                #expect(page.openGraph["@type"] as? String == "article")
                #expect(page.openGraph["og:url"] as? String == publicURL + path)
                #expect(page.openGraph["og:image"] as? String == "\(publicURL)/media/\(article.imagePath!)")
                #expect(page.openGraph["og:locale"] as? String == (language == "en" ? "en_GB" : "ar_AR"))
            }
        }
    }

    @Test("the home page names the outlet and the web site; listings carry their breadcrumbs", .enabled(if: ExternalTool.available("python3")))
    func homeAndListings() async throws {
        try await withSite(on: .sqlite) { site in
            let extracted = try await Self.extract(site, ["/", "/ar/", "/ar/news", "/topics/iraq"])
            let publicURL = site.settings.publicURL
            for (path, language) in [("/", "en"), ("/ar/", "ar")] {
                let home = try #require(extracted[path])
                let outlet = try #require(home.document("NewsMediaOrganization"))
                #expect(outlet["name"] as? String == site.settings.siteName)
                #expect(outlet["url"] as? String == publicURL + "/")
                let website = try #require(home.document("WebSite"))
                #expect(website["inLanguage"] as? String == language)
                #expect(website["url"] as? String == publicURL + path)
                #expect(home.openGraph["@type"] as? String == "website")
            }
            for (path, name) in [("/ar/news", "أخبار"), ("/topics/iraq", "Iraq")] {
                let crumbs = try #require(extracted[path]?.document("BreadcrumbList")?["itemListElement"] as? [[String: Any]])
                #expect(crumbs.count == 2)
                #expect(crumbs.last?["name"] as? String == name)
                #expect(crumbs.last?["item"] as? String == publicURL + path)
            }
        }
    }

    @Test("a '<' that a preceding mark joins into one character is still escaped in JSON-LD")
    func joinedLessThanIsEscaped() {
        let script = StructuredData.script(["headline": "\u{0600}<!--<script>", "dek": "\u{0301}</script>"])
        #expect(!script.contains("<"))
        #expect(script.contains("\\u003c!--"))
    }
}
