import Fluent
import Foundation
import Testing
@testable import Masthead

@Suite("The member's account", .serialized)
struct AccountTests {
    @Test("the account page asks an anonymous reader to sign in", arguments: [TestDatabase.sqlite])
    func anonymous(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let page = try await TestBrowser(site: site).get("/account")
            #expect(page.status == .seeOther)
            #expect(page.headers.first(name: .location) == "/signin?return=/account")
        }
    }

    @Test("signing out everywhere ends every session of the member", arguments: TestDatabase.available)
    func signOutEverywhere(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let laptop = TestBrowser(site: site), phone = TestBrowser(site: site)
            try await laptop.signIn(as: "member@example.com", smtp: smtp)
            try await phone.signIn(as: "member@example.com", smtp: smtp)
            #expect(try await phone.get("/account").status == .ok)

            let account = try await laptop.get("/account")
            let out = try await laptop.submit(account, action: "/account/signout-everywhere")
            #expect(out.status == .seeOther)

            #expect(try await laptop.get("/account").status == .seeOther)
            #expect(try await phone.get("/account").status == .seeOther)
            #expect(try await MemberSession.query(on: site.app.db).count() == 0)
        }
    }

    @Test("signing out ends only this session", arguments: [TestDatabase.sqlite])
    func signOut(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let laptop = TestBrowser(site: site), phone = TestBrowser(site: site)
            try await laptop.signIn(as: "member@example.com", smtp: smtp)
            try await phone.signIn(as: "member@example.com", smtp: smtp)

            _ = try await laptop.submit(try await laptop.get("/account"), action: "/account/signout")
            #expect(try await laptop.get("/account").status == .seeOther)
            #expect(try await phone.get("/account").status == .ok)
        }
    }

    @Test("deleting an account is confirmed by email and removes the member", arguments: TestDatabase.available)
    func deleteAccount(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let browser = TestBrowser(site: site)
            try await browser.signIn(as: "leaving@example.com", smtp: smtp)
            let requested = try await browser.submit(try await browser.get("/account"), action: "/account/delete")
            #expect(requested.body.contains("Confirm by email"))
            #expect(try await Member.query(on: site.app.db).count() == 1)

            let link = try #require(try smtp.messages(to: "leaving@example.com").last?.link(containing: "/account/delete/confirm?token="))
            let confirm = try await browser.get(String(link.dropFirst("https://news.example".count)))
            let done = try await browser.submit(confirm, action: "/account/delete/confirm")
            #expect(done.status == .ok)
            #expect(done.body.contains("Your account has been deleted"))
            #expect(try await Member.query(on: site.app.db).count() == 0)
            #expect(try await MemberSession.query(on: site.app.db).count() == 0)
            #expect(try await browser.get("/account").status == .seeOther)
        }
    }
}
