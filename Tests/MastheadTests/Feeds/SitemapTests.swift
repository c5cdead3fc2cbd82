import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// The sitemaps and robots.txt, as search engines read them.
@Suite("Sitemaps", .serialized)
struct SitemapTests {
    static func locations(in xml: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "<loc>([^<]*)</loc>")
        return pattern.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)).map {
            HTML.unescape(String(xml[Range($0.range(at: 1), in: xml)!]))
        }
    }

    static func path(_ url: String, _ site: TestSite) -> String {
        String(url.dropFirst(site.settings.publicURL.count))
    }

    @Test("the sitemap index names sitemaps whose every address answers, and every published article is in them once", arguments: TestDatabase.available)
    func everyAddressAnswers(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let index = try await site.get("/sitemap.xml")
            #expect(index.status == .ok)
            #expect(index.headers.first(name: .contentType) == "application/xml; charset=utf-8")
            let sitemaps = Self.locations(in: index.body).map { Self.path($0, site) }
            #expect(sitemaps == ["/sitemaps/pages-1.xml", "/sitemaps/articles-1.xml", "/sitemaps/topics-1.xml", "/sitemaps/authors-1.xml", "/sitemaps/news.xml"])
            var addresses: [String] = []
            for sitemap in sitemaps {
                let page = try await site.get(sitemap)
                #expect(page.status == .ok, "\(sitemap)")
                addresses += Self.locations(in: page.body).map { Self.path($0, site) }
            }
            #expect(Set(addresses).count == addresses.count, "an address is listed twice")
            for address in addresses {
                #expect(try await site.get(address).status == .ok, "\(address)")
            }
            let published = try await Article.query(on: site.app.db).filter(\.$status == .published).filter(\.$publishedAt <= Date()).all()
            let articleAddresses = Set(published.map { ($0.edition == "en" ? "" : "/\($0.edition)") + "/articles/\($0.slug)" })
            #expect(Set(addresses.filter { $0.contains("/articles/") }) == articleAddresses)
            #expect(addresses.contains("/ar/topics/iraq"))
            #expect(addresses.contains("/ar/analysis"))
        }
    }

    @Test("a translated article names its versions in every edition, with its last change", arguments: [TestDatabase.sqlite])
    func translationsAndLastChange(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let arabic = try await DemoArticles.firstTranslated(on: site, edition: "ar")
            let english = try #require(try await Article.query(on: site.app.db)
                .filter(\.$translationGroup == arabic.translationGroup).filter(\.$edition == "en").first())
            let xml = try await site.get("/sitemaps/articles-1.xml").body
            let publicURL = site.settings.publicURL
            let entry = try #require(HTML.section(of: xml, from: "<loc>\(publicURL)/ar/articles/\(arabic.slug)</loc>", to: "</url>"))
            #expect(entry.contains("<lastmod>\(EditionDates.iso(arabic.lastModified!))</lastmod>"))
            #expect(entry.contains("<xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"\(publicURL)/articles/\(english.slug)\"/>"))
            #expect(entry.contains("<xhtml:link rel=\"alternate\" hreflang=\"ar\" href=\"\(publicURL)/ar/articles/\(arabic.slug)\"/>"))
        }
    }

    @Test("the news sitemap lists exactly the articles published in the last 48 hours", arguments: TestDatabase.available)
    func newsSitemap(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let articles = try await Article.query(on: site.app.db).filter(\.$status == .published).sort(\.$publishedAt, .descending).all()
            let hoursAgo: [Double] = [1, 47, 49, 24]
            let arabic = try #require(articles.first { $0.edition == "ar" })
            let english = articles.filter { $0.edition == "en" }.prefix(3)
            for (article, hours) in zip(Array(english) + [arabic], hoursAgo) {
                article.publishedAt = Date().addingTimeInterval(-hours * 3600)
                try await article.save(on: site.app.db)
            }
            try await ContentGeneration.bump(on: site.app.db, purging: .everything)
            try await Task.sleep(for: .milliseconds(400))

            let xml = try await site.get("/sitemaps/news.xml").body
            let listed = Set(Self.locations(in: xml).map { Self.path($0, site) })
            let recent = zip(Array(english) + [arabic], hoursAgo).filter { $0.1 < 48 }.map(\.0)
            #expect(listed == Set(recent.map { ($0.edition == "en" ? "" : "/ar") + "/articles/\($0.slug)" }))
            #expect(xml.contains("<news:publication><news:name>\(XMLText.escape(site.settings.siteName))</news:name><news:language>ar</news:language></news:publication>"))
            #expect(xml.contains("<news:title>\(XMLText.escape(arabic.title))</news:title>"))
            #expect(xml.contains("<news:publication_date>\(EditionDates.iso(arabic.publishedAt!))</news:publication_date>"))
        }
    }

    @Test("an archive larger than one sitemap is split into files of the allowed size", arguments: [TestDatabase.sqlite])
    func splitting(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let theme = try Theme.load(directory: site.settings.themeDirectory, editionCodes: site.settings.editionCodes)
            let sitemaps = Sitemaps(database: site.app.db, editions: theme.editions, now: Date(), urlsPerFile: 7)
            let total = try await Article.query(on: site.app.db).filter(\.$status == .published).filter(\.$publishedAt <= Date()).count()
            let fileCount = (total + 6) / 7
            #expect(fileCount > 2)
            let files = try await sitemaps.files().filter { $0.section == .articles }.map(\.number)
            #expect(files == Array(1...fileCount))
            var paths: [String] = []
            for number in files {
                let entries = try #require(try await sitemaps.entries(.articles, file: number))
                #expect(entries.count == (number < fileCount ? 7 : total - 7 * (fileCount - 1)))
                paths += entries.map(\.path)
            }
            #expect(Set(paths).count == total)
            #expect(try await sitemaps.entries(.articles, file: fileCount + 1) == nil)
        }
    }

    @Test("addresses that name no sitemap are not found", arguments: [TestDatabase.sqlite])
    func unknownSitemaps(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            for path in ["/sitemaps/articles-2.xml", "/sitemaps/articles-01.xml", "/sitemaps/articles-0.xml", "/sitemaps/nothing-1.xml", "/sitemaps/articles.xml", "/sitemaps/topics-99999999.xml"] {
                let status = try await site.get(path).status
                #expect(status == .notFound, "\(path)")
            }
        }
    }

    @Test("robots.txt names the sitemap index and the news sitemap", arguments: [TestDatabase.sqlite])
    func robots(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let robots = try await site.get("/robots.txt").body
            #expect(robots.contains("Sitemap: https://news.example/sitemap.xml\n"))
            #expect(robots.contains("Sitemap: https://news.example/sitemaps/news.xml\n"))
        }
    }
}
