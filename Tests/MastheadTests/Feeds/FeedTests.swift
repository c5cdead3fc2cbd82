import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// The feeds as feed readers, aggregators and apps read them.
@Suite("Feeds", .serialized)
struct FeedTests {
    /// The feed checker's verdict on one feed.
    struct Checked: Decodable {
        struct Entry: Decodable {
            let id: String?
            let link: String?
            let title: String?
        }

        let url: String
        let format: String
        let title: String?
        let language: String?
        let problems: [String]
        let entries: [Entry]
    }

    static func check(_ site: TestSite, _ paths: [String]) async throws -> [String: Checked] {
        let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/feed-check").path
        let result = try await ExternalTool.run("python3", [script] + paths.map { site.baseURL + $0 })
        #expect(result.status == 0, "feed-check: \(result.output.prefix(3000))")
        var checked: [String: Checked] = [:]
        for line in result.output.split(separator: "\n") where line.hasPrefix("{") {
            let feed = try JSONDecoder().decode(Checked.self, from: Data(line.utf8))
            checked[String(feed.url.dropFirst(site.baseURL.count))] = feed
        }
        return checked
    }

    static func feedPaths(_ base: String) -> [String] {
        FeedFormat.allCases.map { base + $0.fileName }
    }

    @Test("every kind of feed parses without errors and lists the newest articles it follows", .enabled(if: ExternalTool.available("python3")), arguments: TestDatabase.available)
    func feedsParse(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let links = HTML.internalLinks(in: try await site.get("/articles/\(article.slug)").body)
            let topic = try #require(links.first { $0.hasPrefix("/topics/") })
            let author = try #require(links.first { $0.hasPrefix("/authors/") })
            let arabic = try await DemoArticles.first(on: site, edition: "ar", visibility: .public)
            let arabicLinks = HTML.internalLinks(in: try await site.get("/ar/articles/\(arabic.slug)").body)
            let arabicTopic = try #require(arabicLinks.first { $0.hasPrefix("/ar/topics/") })
            let bases = ["/", "/ar/", "/all/", "/news/", "/ar/analysis/", topic + "/", author + "/", arabicTopic + "/"]
            let checked = try await Self.check(site, bases.flatMap(Self.feedPaths))
            #expect(checked.count == bases.count * 3)
            for (path, feed) in checked {
                #expect(feed.problems.isEmpty, "\(path): \(feed.problems)")
                #expect(!feed.entries.isEmpty, "\(path) lists nothing")
            }

            let published = PublishedArticles(database: site.app.db)
            for (base, edition) in [("/", "en"), ("/ar/", "ar")] {
                let newest = try await published.feed(edition: edition, limit: FeedController.itemCount)
                let ids = newest.map { "urn:uuid:\($0.id!.uuidString.lowercased())" }
                for path in Self.feedPaths(base) {
                    let feed = try #require(checked[path])
                    #expect(feed.entries.map(\.id) == ids, "\(path)")
                    #expect(feed.entries.first?.link == site.settings.publicURL + (edition == "en" ? "" : "/ar") + "/articles/\(newest[0].slug)")
                    if feed.format != "json" { #expect(feed.language == edition, "\(path)") }
                }
            }
            #expect(checked["/ar/feed.xml"]?.title == "\(site.settings.siteName) بالعربية")
            let everything = try #require(checked["/all/atom.xml"])
            #expect(everything.language == nil)
            #expect(Set(everything.entries.compactMap(\.link).map { $0.contains("/ar/") }) == [true, false])
        }
    }

    @Test("a public article's item carries its whole text; a gated one only its preview and a link to the page", arguments: [TestDatabase.sqlite])
    func itemsFollowTheAccessDecision(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let feed = try await Self.jsonFeed(site, "/feed.json")
            for visibility in [Visibility.public, .paid] {
                let article = try await DemoArticles.first(on: site, edition: "en", visibility: visibility)
                let item = try #require(feed.items.first { $0.url.hasSuffix("/articles/\(article.slug)") }, "\(visibility) article missing")
                let text = HTML.text(of: item.contentHTML)
                let rest = DemoArticles.gatedSentences(of: article)
                #expect(!rest.isEmpty)
                if visibility == .public {
                    #expect(rest.allSatisfy { text.contains($0) })
                    #expect(!item.contentHTML.contains("Continue reading"))
                } else {
                    #expect(!rest.contains { text.contains($0) })
                    #expect(item.contentHTML.contains("<a href=\"\(item.url)\">Continue reading on \(site.settings.siteName)</a>"))
                }
                #expect(item.summary == article.dek)
            }
        }
    }

    @Test("lead images are described with their caption and credit; links and images are absolute", arguments: [TestDatabase.sqlite])
    func imagesAndAbsoluteLinks(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let rss = try await site.get("/feed.xml")
            let item = try #require(HTML.section(of: rss.body, from: "<link>\(site.settings.publicURL)/articles/\(article.slug)</link>", to: "</item>"))
            let imagePath = try #require(article.imagePath)
            #expect(item.contains("<media:content url=\"\(site.settings.publicURL)/media/\(imagePath)\" medium=\"image\""))
            #expect(item.contains("<media:description type=\"plain\">\(XMLText.escape(article.imageCaption))</media:description>"))
            #expect(!rss.body.contains("href=&quot;/"))
            #expect(!rss.body.contains("src=&quot;/"))
            let atom = try await site.get("/atom.xml")
            #expect(atom.body.contains("<link rel=\"enclosure\" type=\"image/svg+xml\" href=\"\(site.settings.publicURL)/media/\(imagePath)\""))
        }
    }

    @Test("an article keeps its feed id when it is retitled and moved to a new address", arguments: [TestDatabase.sqlite])
    func stableIDs(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let before = try await Self.jsonFeed(site, "/feed.json").items.first { $0.url.hasSuffix("/articles/\(article.slug)") }
            article.title = "A new headline for an old story"
            article.slug = "a-new-address-for-an-old-story"
            try await article.save(on: site.app.db)
            try await ContentGeneration.bump(on: site.app.db, purging: .everything)
            try await Task.sleep(for: .milliseconds(400))
            let after = try await Self.jsonFeed(site, "/feed.json").items.first { $0.title == "A new headline for an old story" }
            #expect(before?.id == "urn:uuid:\(article.id!.uuidString.lowercased())")
            #expect(after?.id == before?.id)
            #expect(after?.url.hasSuffix("/articles/a-new-address-for-an-old-story") == true)
        }
    }

    @Test("a feed reader that already holds the feed gets 304 Not Modified", arguments: [TestDatabase.sqlite])
    func conditionalGet(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            for path in Self.feedPaths("/") {
                let first = try await site.get(path)
                #expect(first.status == .ok)
                let etag = try #require(first.headers.first(name: .eTag))
                let lastModified = try #require(first.headers.first(name: .lastModified))
                #expect(first.headers.first(name: .contentType) == FeedFormat.allCases.first { path.hasSuffix($0.fileName) }?.contentType)
                #expect(try await site.get(path, headers: [("If-None-Match", etag)]).status == .notModified)
                #expect(try await site.get(path, headers: [("If-Modified-Since", lastModified)]).status == .notModified)
                #expect(try await site.get(path, headers: [("If-None-Match", "\"stale\"")]).status == .ok)
            }
        }
    }

    @Test("pages name their feeds for browsers and feed readers to discover", arguments: [TestDatabase.sqlite])
    func autodiscovery(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let publicURL = site.settings.publicURL
            for (page, feedBase) in [("/", "/"), ("/ar/", "/ar/"), ("/news", "/news/"), ("/ar/memos", "/ar/memos/")] {
                let html = try await site.get(page).body
                let links = HTML.attributeValues("href", of: "link rel=\"alternate\" type", in: html)
                #expect(links == Self.feedPaths(feedBase).map { publicURL + $0 }, "\(page)")
                for link in links {
                    #expect(try await site.get(String(link.dropFirst(publicURL.count))).status == .ok)
                }
            }
        }
    }

    @Test("feeds of a topic or author that does not exist are not found", arguments: [TestDatabase.sqlite])
    func unknownFeeds(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            for path in ["/topics/no-such-topic/feed.xml", "/ar/authors/no-such-author/atom.xml", "/topics/BAD%20SLUG/feed.json"] {
                let status = try await site.get(path).status
                #expect(status == .notFound, "\(path)")
            }
        }
    }

    struct JSONFeed: Decodable {
        struct Item: Decodable {
            let id: String
            let url: String
            let title: String
            let summary: String
            let contentHTML: String
            enum CodingKeys: String, CodingKey { case id, url, title, summary, contentHTML = "content_html" }
        }

        let items: [Item]
    }

    static func jsonFeed(_ site: TestSite, _ path: String) async throws -> JSONFeed {
        try JSONDecoder().decode(JSONFeed.self, from: Data(try await site.get(path).body.utf8))
    }
}
