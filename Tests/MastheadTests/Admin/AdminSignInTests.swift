import Fluent
import Foundation
import Testing
@testable import Masthead

@Suite("Signing in to the admin", .serialized)
struct AdminSignInTests {
    @Test("an editor signs in with a password and sees the articles, filtered", arguments: TestDatabase.available)
    func signInAndList(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            try await StaffAccounts(database: site.app.db).create(email: "editor@example.com", name: "Nadia Editor", role: .editor, password: "a long editor password")
            let browser = TestBrowser(site: site)
            #expect(try await browser.get("/admin").headers.first(name: .location) == "/admin/signin")

            let signedIn = try await browser.submit(try await browser.get("/admin/signin"), action: "/admin/signin", ["email": "Editor@example.com", "password": "a long editor password"])
            #expect(signedIn.status == .seeOther)
            let cookie = try #require(signedIn.headers[.setCookie].first { $0.hasPrefix("mh_staff=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/admin"))

            let list = try await browser.get("/admin")
            #expect(list.status == .ok)
            #expect(list.body.contains("Signed in as Nadia Editor (editor)"))
            #expect(list.body.contains("\(try await Article.query(on: site.app.db).count()) articles"))
            let arabicNews = try await browser.get("/admin?edition=ar&kind=news")
            let expected = try await Article.query(on: site.app.db).filter(\.$edition == "ar").filter(\.$kind == .news).count()
            #expect(arabicNews.body.contains("\(expected) articles"))
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let searched = try await browser.get("/admin?q=" + (article.title.prefix(20).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            #expect(searched.body.contains(article.title.htmlEscapedForTest))

            _ = try await browser.submit(list, action: "/admin/signout")
            #expect(try await browser.get("/admin").status == .seeOther)
        }
    }

    @Test("a wrong password is refused without saying which part was wrong, and five lock the account", arguments: [TestDatabase.sqlite])
    func lockout(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            try await StaffAccounts(database: site.app.db).create(email: "author@example.com", name: "", role: .author, password: "the right password")
            let browser = TestBrowser(site: site)
            let form = try await browser.get("/admin/signin")

            let unknown = try await browser.submit(form, action: "/admin/signin", ["email": "nobody@example.com", "password": "whatever it is"])
            let wrong = try await browser.submit(form, action: "/admin/signin", ["email": "author@example.com", "password": "the wrong password"])
            #expect(unknown.status == .unauthorized && wrong.status == .unauthorized)
            #expect(wrong.body.contains("That email address and password do not match an account."))
            for _ in 2...4 {
                _ = try await browser.submit(form, action: "/admin/signin", ["email": "author@example.com", "password": "the wrong password"])
            }
            let fifth = try await browser.submit(form, action: "/admin/signin", ["email": "author@example.com", "password": "the wrong password"])
            #expect(fifth.status == .tooManyRequests)
            let right = try await browser.submit(form, action: "/admin/signin", ["email": "author@example.com", "password": "the right password"])
            #expect(right.status == .tooManyRequests)
            #expect(right.body.contains("try again in 15 minutes"))
            #expect(try await StaffSession.query(on: site.app.db).count() == 0)
        }
    }

    @Test("the sign-in form refuses a post without its CSRF token", arguments: [TestDatabase.sqlite])
    func csrf(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            try await StaffAccounts(database: site.app.db).create(email: "owner@example.com", name: "", role: .owner, password: "the owner password")
            let page = try await TestBrowser(site: site).post("/admin/signin", form: ["email": "owner@example.com", "password": "the owner password"])
            #expect(page.status == .forbidden)
            #expect(try await StaffSession.query(on: site.app.db).count() == 0)
        }
    }

    @Test("robots.txt keeps crawlers out of the admin and nothing else")
    func robots() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let robots = try await site.get("/robots.txt")
            let rules = robots.body.split(separator: "\n").filter { !$0.hasPrefix("Sitemap:") }
            #expect(rules == ["User-agent: *", "Allow: /", "Disallow: /admin"])
        }
    }
}
