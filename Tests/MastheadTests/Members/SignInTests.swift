import Fluent
import Foundation
import Testing
@testable import Masthead

/// Signing in by emailed link, against a real SMTP server.
@Suite("Signing in by email", .serialized)
struct SignInTests {
    @Test("a reader signs up from an emailed link and lands back on the article", arguments: TestDatabase.available)
    func signUpAndReturn(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            let form = try await browser.get("/join?return=/news")
            #expect(form.status == .ok)
            #expect(form.headers.first(name: .cacheControl) == "no-store")

            let sent = try await browser.submit(form, action: "/join", ["email": "  Reader@Example.COM ", "name": "Layla Haddad"])
            #expect(sent.status == .ok)
            #expect(sent.body.contains("Check your email"))

            let message = try #require(try smtp.messages(to: "reader@example.com").first)
            #expect(message.content_type == "multipart/alternative")
            #expect(message.defects.isEmpty)
            #expect(message.headers["message-id"]?.hasPrefix("<") == true)
            #expect(message.headers["to"] == "Layla Haddad <reader@example.com>")
            #expect(message.html?.contains("<a href=") == true)
            let link = try #require(message.link(containing: "/signin/verify?token="))
            let path = String(link.dropFirst("https://news.example".count))

            let confirm = try await browser.get(path)
            #expect(confirm.status == .ok)
            let signedIn = try await browser.submit(confirm, action: "/signin/verify")
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers.first(name: .location) == "/news")
            let cookie = try #require(signedIn.headers[.setCookie].first { $0.hasPrefix("mh_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(cookie.contains("Secure"))

            let account = try await browser.get("/account")
            #expect(account.status == .ok)
            #expect(account.body.contains("reader@example.com"))
            #expect(account.body.contains("Layla Haddad"))
            #expect(try await Member.query(on: site.app.db).count() == 1)
        }
    }

    @Test("an Arabic name survives the email intact", arguments: [TestDatabase.sqlite])
    func arabicName(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            _ = try await browser.submit(try await browser.get("/ar/join"), action: "/ar/join", ["email": "salma@example.com", "name": "سلمى الخطيب"])

            let message = try #require(try smtp.messages(to: "salma@example.com").first)
            #expect(message.defects.isEmpty)
            #expect(message.headers["to"] == "سلمى الخطيب <salma@example.com>")
            #expect(message.headers["subject"]?.contains("رابط تسجيل الدخول") == true)
            #expect(message.link(containing: "/ar/signin/verify?token=") != nil)
        }
    }

    @Test("known and unknown addresses get the same answer", arguments: [TestDatabase.sqlite])
    func noAccountDisclosure(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, _ in
            try await Member(email: "known@example.com", name: "Known").create(on: site.app.db)
            let browser = TestBrowser(site: site)
            let known = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "known@example.com"])
            let unknown = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "unknown@example.com"])
            #expect(known.status == unknown.status)
            #expect(known.body.replacingOccurrences(of: "known@example.com", with: "X") == unknown.body.replacingOccurrences(of: "unknown@example.com", with: "X"))
        }
    }

    @Test("a link works once; used, expired and forged links are refused", arguments: TestDatabase.available)
    func singleUse(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            _ = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "once@example.com"])
            let link = try #require(try smtp.messages(to: "once@example.com").first?.link(containing: "token="))
            let path = String(link.dropFirst("https://news.example".count))
            let confirm = try await browser.get(path)
            #expect(try await browser.submit(confirm, action: "/signin/verify").status == .seeOther)

            let again = try await TestBrowser(site: site).submit(confirm, action: "/signin/verify")
            #expect(again.status == .gone || again.status == .forbidden)
            let reuse = try await TestBrowser(site: site).get(path)
            #expect(reuse.status == .gone)
            #expect(reuse.body.contains("already been used"))

            let forged = try await TestBrowser(site: site).get("/signin/verify?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            #expect(forged.status == .notFound)
            #expect(forged.body.contains("This link does not work"))

            _ = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "late@example.com"])
            try await LoginToken.query(on: site.app.db).filter(\.$email == "late@example.com")
                .set(\.$expiresAt, to: Date().addingTimeInterval(-1)).update()
            let lateLink = try #require(try smtp.messages(to: "late@example.com").first?.link(containing: "token="))
            let expired = try await TestBrowser(site: site).get(String(lateLink.dropFirst("https://news.example".count)))
            #expect(expired.status == .gone)
            #expect(expired.body.contains("expired"))
        }
    }

    @Test("a form without its CSRF token, or from another site, changes nothing", arguments: TestDatabase.available)
    func csrf(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            let form = try await browser.get("/signin")
            let missing = try await browser.post("/signin", form: ["email": "victim@example.com"])
            #expect(missing.status == .forbidden)
            #expect(missing.body.contains("This form has expired or did not come from this site"))
            let wrong = try await browser.post("/signin", form: ["email": "victim@example.com", "csrf": "forged"])
            #expect(wrong.status == .forbidden)
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: form.body).first)
            let crossSite = try await browser.post("/signin", form: ["email": "victim@example.com", "csrf": token], origin: "https://evil.example")
            #expect(crossSite.status == .forbidden)

            #expect(try await LoginToken.query(on: site.app.db).count() == 0)
            #expect(try smtp.messages().isEmpty)
        }
    }

    @Test("a flood of requests for one address is refused after five an hour", arguments: [TestDatabase.sqlite])
    func rateLimit(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            for _ in 1...5 {
                let page = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "flood@example.com"])
                #expect(page.status == .ok)
            }
            let refused = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "flood@example.com"])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.body.contains("Too many requests"))
            #expect(try smtp.messages(to: "flood@example.com").count == 5)
        }
    }

    @Test("one client asking for links to many addresses is refused after thirty an hour", arguments: [TestDatabase.sqlite])
    func perClientRateLimit(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = TestBrowser(site: site)
            let form = try await browser.get("/signin")
            for number in 1...30 {
                let page = try await browser.submit(form, action: "/signin", ["email": "reader\(number)@example.com"])
                #expect(page.status == .ok)
            }
            let refused = try await browser.submit(form, action: "/signin", ["email": "one-more@example.com"])
            #expect(refused.status == .tooManyRequests)
            #expect(try await LoginToken.query(on: site.app.db).count() == 30)
        }
    }

    @Test("an invalid address is a 400 with the form and a readable message", arguments: [TestDatabase.sqlite])
    func invalidAddress(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            let page = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "not an address"])
            #expect(page.status == .badRequest)
            #expect(page.body.contains("does not look like an email address"))
            #expect(try smtp.messages().isEmpty)
        }
    }
}

/// A site whose mail goes to a real SMTP server started for the test.
func withMailSite(on database: TestDatabase, _ body: (TestSite, TestSMTPServer) async throws -> Void) async throws {
    let smtp = try await TestSMTPServer.start()
    defer { smtp.stop() }
    try await withSite(on: database, configure: { $0.smtp = smtp.configuration }) { site in
        try await body(site, smtp)
    }
}

extension TestBrowser {
    /// Signs in through the emailed link, as a reader would.
    func signIn(as email: String, smtp: TestSMTPServer) async throws {
        let before = try smtp.messages(to: email).count
        _ = try await submit(try await get("/signin"), action: "/signin", ["email": email])
        let messages = try smtp.messages(to: email)
        guard messages.count > before, let link = messages.last?.link(containing: "/signin/verify?token=") else {
            throw TestSupportError("no sign-in email reached \(email)")
        }
        let confirm = try await get(String(link.dropFirst("https://news.example".count)))
        _ = try await submit(confirm, action: "/signin/verify")
    }
}
