import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
@testable import Masthead

/// The search page as readers use it, on both databases, over the demo in all four editions.
@Suite("Search", .serialized)
struct SearchTests {
    static func allEditions(_ settings: inout Settings) {
        settings.editionCodes = DemoContent.editions
    }

    /// The article paths a search page lists, in order, and the page itself.
    static func search(_ get: (String) async throws -> TestSite.Page, _ path: String, _ query: String, _ extra: String = "") async throws -> (paths: [String], page: TestSite.Page) {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let page = try await get("\(path)?q=\(encoded)\(extra)")
        let paths = HTML.attributeValues("href", of: "h3 class=\"card__title\"><a", in: page.body)
        return (paths, page)
    }

    static func search(_ site: TestSite, _ path: String, _ query: String, _ extra: String = "") async throws -> (paths: [String], page: TestSite.Page) {
        try await search({ try await site.get($0) }, path, query, extra)
    }

    @Test("Arabic with or without diacritics, Persian typed with Arabic letters, Turkish in any casing and a name in Latin or Arabic script find the intended articles", arguments: TestDatabase.available)
    func languagesFindTheirArticles(database: TestDatabase) async throws {
        try await withSite(on: database, configure: Self.allEditions) { site in
            let plain = try await Self.search(site, "/ar/search", "المياه")
            let voweled = try await Self.search(site, "/ar/search", "المِيَاهُ")
            #expect(plain.paths.contains("/ar/articles/iraq-water-emergency-southern-provinces-ar"))
            #expect(plain.paths == voweled.paths)
            if database == .sqlite {
                // A reader typing المياه with the article has it found from its third letter
                // (SQLite's list of filed words tells that nothing begins المي; not yet on PostgreSQL).
                #expect(try await Self.search(site, "/ar/search", "المي").paths.contains("/ar/articles/iraq-water-emergency-southern-provinces-ar"))
            }

            for typed in ["كشاورزي", "کشاورزی"] {
                #expect(try await Self.search(site, "/fa/search", typed).paths.first == "/fa/articles/tehran-dams-record-low-night-water-cuts-fa", "\(typed)")
            }
            for typed in ["DİYARBAKIR", "diyarbakır", "Diyarbakir", "DIYARBAKIR"] {
                #expect(try await Self.search(site, "/tr/search", typed).paths == ["/tr/articles/memo-drought-harran-plain-and-tigris-releases-tr"], "\(typed)")
            }
            #expect(try await Self.search(site, "/tr/search", "IRAK").paths.count == 5)

            let soleimani = "/articles/after-al-qaim-iraq-syria-border-faces-a-harder-winter"
            for typed in ["Soleimani", "Suleimani", "سليماني", "سلیمانی", "Süleymani", "Soleimany"] {
                #expect(try await Self.search(site, "/search", typed).paths.contains(soleimani), "\(typed)")
            }
            for typed in ["Hashd", "الحشد الشعبي", "\"Popular Mobilization Forces\""] {
                #expect(try await Self.search(site, "/search", typed).paths.contains("/articles/eastern-dawn-brigades-and-the-economy-of-the-border"), "\(typed)")
            }
        }
    }

    @Test("a word only in a gated part finds nothing for a reader who may not read it, and the article for one who may", arguments: TestDatabase.available)
    func gatedWordsFindOnlyForEntitledReaders(database: TestDatabase) async throws {
        try await withSite(on: database, configure: Self.allEditions) { site in
            // کرکوک appears only after the paywall of a members' analysis.
            let target = "/fa/articles/soleimani-legacy-iran-allies-in-iraq-fa"
            let anonymous = try await Self.search(site, "/fa/search", "کرکوک")
            #expect(anonymous.paths.isEmpty)
            #expect(anonymous.page.status == .ok)

            let member = try await TestModeJourneyTests.signedInReader(site, email: "reader@example.com")
            let found = try await Self.search({ try await member.get($0) }, "/fa/search", "کرکوک")
            #expect(found.paths == [target])
            #expect(found.page.body.contains("<mark>کرکوک</mark>"))
            #expect(found.page.headers.first(name: .cacheControl) == "private, no-store")
            #expect(anonymous.page.headers.first(name: .cacheControl) == "private, no-cache")

            // Its title and preview are for everyone: found, with a snippet from the preview.
            let byTitle = try await Self.search(site, "/fa/search", "سلیمانی")
            #expect(byTitle.paths.contains(target))
        }
    }

    @Test("an article is found once published, found by its new words once updated, and not at all once unpublished; a draft never", arguments: TestDatabase.available)
    func indexFollowsPublishing(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let staff = try await Newsroom.hire(site, .editor)
            let author = try #require(try await Author.query(on: site.app.db).first())
            let editor = ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en", "ar"], now: Date())
            var draft = ArticleDraft.empty(edition: "en")
            draft.title = "Quokkas reach Basra"
            draft.body = "A first paragraph about zebrafish.\n\nA second."
            draft.authorIDs = [try author.requireID()]
            let article = try await editor.create(draft, action: .save, by: staff)
            #expect(try await Self.search(site, "/search", "quokkas").paths.isEmpty)

            _ = try await editor.update(try article.requireID(), draft, action: .publish, by: staff)
            #expect(try await Self.search(site, "/search", "zebrafish").paths == ["/articles/\(article.slug)"])

            draft.body = "A first paragraph about axolotls.\n\nA second."
            _ = try await editor.update(try article.requireID(), draft, action: .save, by: staff)
            #expect(try await Self.search(site, "/search", "zebrafish").paths.isEmpty)
            #expect(try await Self.search(site, "/search", "axolotls").paths == ["/articles/\(article.slug)"])

            _ = try await editor.update(try article.requireID(), draft, action: .unpublish, by: staff)
            #expect(try await Self.search(site, "/search", "axolotls").paths.isEmpty)
        }
    }

    @Test("a word still being typed finds the articles with any word it begins, also when the list of known words lacks them", arguments: TestDatabase.available)
    func prefixesWhileTyping(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let staff = try await Newsroom.hire(site, .editor)
            let author = try #require(try await Author.query(on: site.app.db).first())
            let editor = ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en", "ar"], now: Date())
            var slugs: [String] = []
            for (title, word) in [("Fishing on the Shatt", "zebrafishery"), ("A lab in Mosul", "Zebrafinches")] {
                var draft = ArticleDraft.empty(edition: "en")
                draft.title = title
                draft.body = "A paragraph about \(word).\n\nA second."
                draft.authorIDs = [try author.requireID()]
                let article = try await editor.create(draft, action: .publish, by: staff)
                slugs.append("/articles/\(article.slug)")
            }
            let both = try await Self.search(site, "/search", "zebraf")
            #expect(Set(both.paths) == Set(slugs))
            #expect(!both.page.body.contains("role=\"alert\""), "no error on a good search")
            #expect(!both.page.body.contains(">nil<") && !both.page.body.contains("\"nil\""), "no field renders as nil")
            #expect(try await Self.search(site, "/search", "Zebrafis").paths == [slugs[0]])
            #expect(try await Self.search(site, "/search", "zebrafin").paths == [slugs[1]])
            #expect(try await Self.search(site, "/search", "zebrafin ").paths.isEmpty, "a finished word is matched whole")

            let sql = site.app.db as! any SQLDatabase
            try await sql.raw("DELETE FROM search_terms").run()
            #expect(Set(try await Self.search(site, "/search", "zebraf").paths) == Set(slugs))
            #expect(try await Self.search(site, "/search", "zebrafin").paths == [slugs[1]])

            // A rebuild lists again exactly the words the index holds.
            try await sql.raw("INSERT INTO search_terms (term) VALUES ('zebrafoal')").run()
            _ = try await SearchIndexing(database: site.app.db).rebuild()
            let listed = try await sql.raw("SELECT term FROM search_terms WHERE term >= 'zebra' AND term < 'zebrb' ORDER BY term").all()
                .map { try $0.decode(column: "term", as: String.self) }
            #expect(listed == ["zebrafinches", "zebrafishery"])
        }
    }

    @Test("an Arabic word typed with its article finds and marks words filed without it, unless a word is filed with it as typed", arguments: TestDatabase.available)
    func arabicPrefixWithTheArticle(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let iraq = try await Self.search(site, "/ar/search", "العر")
            #expect(iraq.paths.contains("/ar/articles/iraq-water-emergency-southern-provinces-ar"))
            #expect(iraq.page.body.contains("<mark>العراق</mark>"))

            let staff = try await Newsroom.hire(site, .editor)
            let author = try #require(try await Author.query(on: site.app.db).first())
            let editor = ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en", "ar"], now: Date())
            var paths: [String] = []
            for (slug, title, body) in [("a-prayer", "دعاء", "قال الحمد لله والشكر لله، الله أكبر."), ("dialects", "لهجات", "لهجة أهل البصرة معروفة.")] {
                var draft = ArticleDraft.empty(edition: "ar")
                draft.slug = slug
                draft.title = title
                draft.body = body + "\n\nفقرة ثانية."
                draft.authorIDs = [try author.requireID()]
                paths.append("/ar/articles/\(try await editor.create(draft, action: .publish, by: staff).slug)")
            }
            #expect(try await Self.search(site, "/ar/search", "الله").paths == [paths[0]])
            #expect(try await Self.search(site, "/ar/search", "لهج").paths == [paths[1]])
        }
    }

    @Test("a topic's new alias finds its articles at once, and a search for a topic's name that matches no article suggests the topic", arguments: TestDatabase.available)
    func aliasesAndSuggestions(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let staff = try await Newsroom.hire(site, .editor)
            let topic = try #require(try await Topic.query(on: site.app.db).filter(\.$slug == "adnan-farhoud").with(\.$names).first())
            #expect(try await Self.search(site, "/search", "Farhoudovich").paths.isEmpty)
            var names: [String: (name: String, description: String)] = [:]
            for name in topic.names { names[name.edition] = (name.name, name.description) }
            try await Taxonomy(database: site.app.db, now: Date()).saveTopic(
                topic.id, .init(slug: topic.slug, kind: topic.kind, names: names, aliases: ["Farhoudovich"]), by: staff
            )
            let found = try await Self.search(site, "/search", "Farhoudovich")
            #expect(!found.paths.isEmpty)

            let none = try await Self.search(site, "/ar/search", "Soleimani")
            #expect(none.paths.isEmpty)
            #expect(none.page.body.contains("href=\"/topics/qassem-soleimani\""))
        }
    }

    @Test("filters narrow results by kind, topic, author and date, results page on, and each page says how many matched", arguments: TestDatabase.available)
    func filtersAndPages(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let all = try await Self.search(site, "/search", "the")
            #expect(all.paths.count == SearchForm.perPage)
            let total = try #require(Int(HTML.text(of: all.page.body).firstMatch(of: /(\d+) results/)?.1 ?? ""))
            #expect(total > SearchForm.perPage)
            let second = try await Self.search(site, "/search", "the", "&page=2")
            #expect(second.paths.count == total - SearchForm.perPage)
            #expect(Set(second.paths).isDisjoint(with: all.paths))

            let memos = try await Self.search(site, "/search", "iraq", "&kind=memo")
            #expect(!memos.paths.isEmpty && memos.paths.allSatisfy { $0.contains("memo") })
            let water = try await Self.search(site, "/search", "iraq", "&topic=water")
            #expect(!water.paths.isEmpty && water.paths.count < total)
            let byAuthor = try await Self.search(site, "/search", "iraq", "&author=nour-sabbagh")
            #expect(!byAuthor.paths.isEmpty && byAuthor.paths.count < total)
            let november = try await Self.search(site, "/search", "iraq", "&from=2026-11-01&to=2026-11-30")
            let inNovember = try await Article.query(on: site.app.db).filter(\.$edition == "en").filter(\.$status == .published)
                .filter(\.$publishedAt >= ISO8601DateFormatter().date(from: "2026-11-01T00:00:00Z")!).all()
            #expect(!november.paths.isEmpty)
            #expect(november.paths.allSatisfy { path in inNovember.contains { path.hasSuffix("/\($0.slug)") } })
        }
    }

    @Test("bad search input gets a 400 with a readable message on the search page, and a client searching too fast is told to wait", arguments: [TestDatabase.sqlite])
    func badInputAndRateLimit(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.apiRequestsPerMinute = 5 }) { site in
            let long = try await site.get("/search?q=" + String(repeating: "a", count: 201))
            #expect(long.status == .badRequest)
            #expect(HTML.text(of: long.body).contains("A search is at most 200 characters."))
            for (extra, message) in [("&from=2026-02-30", "Write dates as YYYY-MM-DD"), ("&kind=gossip", "That filter is not one"), ("&topic=no-such-topic", "That filter is not one"), ("&page=0", "The page number")] {
                let page = try await site.get("/search?q=iraq" + extra)
                #expect(page.status == .badRequest, "\(extra)")
                #expect(HTML.text(of: page.body).contains(message), "\(extra)")
            }
            var statuses: [HTTPStatus] = []
            for _ in 0..<6 { statuses.append(try await site.get("/search?q=water").status) }
            #expect(statuses.filter { $0 == .ok }.count <= 5)
            let limited = try await site.get("/search?q=water")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers.first(name: "Retry-After") != nil)
            #expect(try await site.get("/search").status == .ok)
        }
    }

    @Test("what a reader typed is escaped where the page repeats it, even when a mark or a prefix joins a bracket or quote to its neighbour", arguments: [TestDatabase.sqlite])
    func typedTextIsEscaped(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            // U+0600 before, or U+0301 after, makes one user-perceived character with the `"` or `>`.
            let typed = "\u{0600}\"><meta http-equiv=refresh content=0;url=https://evil.example/>\u{0301}"
            let encoded = typed.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            for path in ["/search?q=\(encoded)", "/search?q=&from=\(encoded)", "/ar/search?q=x&to=\(encoded)"] {
                let page = try await site.get(path)
                #expect(!page.body.contains("<meta http-equiv"), "\(path)")
                let joinedQuote = "\u{0600}\u{0022}"
                #expect(!page.body.contains(joinedQuote), "\(path)")
            }
        }
    }

    @Test("every page offers the edition's search in its header and to browsers through OpenSearch", arguments: [TestDatabase.sqlite])
    func searchIsOffered(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let home = try await site.get("/ar/")
            #expect(home.body.contains("<form class=\"site-search\" method=\"get\" action=\"/ar/search\" role=\"search\">"))
            #expect(home.body.contains("<link rel=\"search\" type=\"application/opensearchdescription+xml\""))
            #expect(home.body.contains("search?q={search_term_string}\""))
            #expect(home.body.contains("\"@type\":\"SearchAction\""))
            let description = try await site.get("/ar/opensearch.xml")
            #expect(description.headers.first(name: .contentType)?.hasPrefix("application/opensearchdescription+xml") == true)
            #expect(description.body.contains("template=\"https://news.example/ar/search?q={searchTerms}\""))
        }
    }

    @Test("the admin's article list finds published articles by any word through the index, and drafts by their titles", arguments: TestDatabase.available)
    func adminSearch(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (browser, staff) = try await Newsroom.signedIn(site, as: .editor)
            let editor = ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en", "ar"], now: Date())
            var draft = ArticleDraft.empty(edition: "en")
            draft.title = "Unfinished note on Süleymaniye"
            draft.body = "Private words: pangolin."
            _ = try await editor.create(draft, action: .save, by: staff)

            let byTitle = try await browser.get("/admin?q=suleymaniye")
            #expect(HTML.text(of: byTitle.body).contains("Unfinished note on Süleymaniye"))
            let byBody = try await browser.get("/admin?q=Hilali")
            #expect(HTML.text(of: byBody.body).contains("After al-Qaim, the Iraq-Syria border faces a harder winter"))
            #expect(!HTML.text(of: byBody.body).contains("Iraq closes al-Qaim crossing"))
            let draftBody = try await browser.get("/admin?q=pangolin")
            #expect(!HTML.text(of: draftBody.body).contains("Unfinished note"))
        }
    }
}
