import Fluent
import Foundation
import Testing
@testable import Masthead

/// What each role may do, tried over HTTP as a member of staff would.
@Suite("Staff roles in the admin", .serialized)
struct StaffRoleTests {
    @Test("a contributor saves drafts but cannot publish or schedule them", arguments: TestDatabase.available)
    func contributorCannotPublish(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .contributor)
            let fields = Newsroom.articleFields(title: "A contributor's memo", body: "Text.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "memo", visibility: "public")
            let (refused, _) = try await Newsroom.create(browser, fields, action: "publish")
            #expect(refused.status == .forbidden)
            #expect(refused.body.contains("Your role in the newsroom does not allow this."))
            #expect(try await Newsroom.article(site, title: "A contributor's memo") == nil)

            let (saved, path) = try await Newsroom.create(browser, fields, action: "save")
            #expect(saved.status == .seeOther)
            let editor = try #require(path)
            let page = try await browser.get(editor)
            #expect(!page.body.contains("value=\"publish\""))
            #expect(try await Newsroom.edit(browser, editor, [], action: "publish").status == .forbidden)
            #expect(try await Newsroom.edit(browser, editor, [("scheduleAt", "2099-01-01T00:00")], action: "schedule").status == .forbidden)
            #expect(try await Newsroom.article(site, title: "A contributor's memo")?.status == .draft)
            #expect(try await site.get("/articles/a-contributors-memo").status == .notFound)
        }
    }

    @Test("an author publishes their own article but can neither open nor change another's", arguments: TestDatabase.available)
    func authorOnlyOwnArticles(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            let (colleague, _) = try await Newsroom.signedIn(site, as: .author, email: "colleague@newsroom.example")
            let authors = try await Newsroom.authorIDs(site, count: 1)
            let (published, mine) = try await Newsroom.create(author, Newsroom.articleFields(title: "My own analysis", body: "Mine.", authors: authors), action: "publish")
            #expect(published.status == .seeOther)
            #expect(try await site.get("/articles/my-own-analysis").status == .ok)

            let editor = try #require(mine)
            #expect(try await colleague.get(editor).status == .forbidden)
            let form = try await author.get(editor)
            let hijack = try await colleague.submitMultipart(form, action: editor, [("title", "Hijacked"), ("action", "save")])
            #expect(hijack.status == .forbidden)
            #expect(try await Newsroom.article(site, title: "My own analysis") != nil)
            let demo = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            #expect(try await author.get("/admin/articles/\(demo.id!)").status == .forbidden)
            #expect(try await colleague.get(editor + "/revisions").status == .forbidden)
        }
    }

    @Test("contributors, authors and editors reach none of staff, members, the audit log or settings")
    func onlyAdminsReachAdministration() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let paths = ["/admin/staff", "/admin/members", "/admin/members.csv", "/admin/audit", "/admin/settings"]
            for role in [StaffRole.contributor, .author, .editor] {
                let (browser, _) = try await Newsroom.signedIn(site, as: role)
                for path in paths {
                    #expect(try await browser.get(path).status == .forbidden, "\(role) reached \(path)")
                }
                let list = try await browser.get("/admin")
                #expect(!list.body.contains("href=\"/admin/settings\""))
                let signedOut = try await browser.submit(list, action: "/admin/signout")
                #expect(signedOut.status == .seeOther)
            }
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            for path in paths {
                #expect(try await admin.get(path).status == .ok, "admin could not reach \(path)")
            }
        }
    }

    @Test("an admin invites staff up to their own role, but cannot make an owner or change the owner")
    func adminCannotTouchOwner() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let owner = try await Newsroom.hire(site, .owner)
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let page = try await admin.get("/admin/staff")
            #expect(!page.body.contains("<option value=\"owner\""))
            let refused = try await admin.submit(page, action: "/admin/staff", ["email": "new@newsroom.example", "role": "owner"])
            #expect(refused.status == .forbidden)
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: page.body).first)
            #expect(try await admin.post("/admin/staff/\(owner.id!)/role", form: ["role": "contributor", "csrf": token]).status == .forbidden)
            #expect(try await admin.post("/admin/staff/\(owner.id!)/remove", form: ["csrf": token]).status == .forbidden)
            #expect(try await Staff.find(owner.id, on: site.app.db)?.role == .owner)
        }
    }

    @Test("a post without the session's CSRF token is refused, whatever the role")
    func adminPostsNeedCSRF() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .owner)
            let forged = try await browser.post("/admin/staff", form: ["email": "forged@example.com", "role": "admin"])
            #expect(forged.status == .forbidden)
            let page = try await browser.get("/admin/staff")
            let crossSite = try await browser.post("/admin/staff", form: ["email": "forged@example.com", "role": "admin", "csrf": HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: page.body).first ?? ""], origin: "https://evil.example")
            #expect(crossSite.status == .forbidden)
            #expect(try await Staff.query(on: site.app.db).filter(\.$email == "forged@example.com").count() == 0)
        }
    }

    @Test("an author cannot tie their article to a colleague's as its translation")
    func translationNeedsBothArticles() async throws {
        try await withSite(on: .sqlite) { site in
            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            let (_, mine) = try await Newsroom.create(author, Newsroom.articleFields(title: "My Arabic piece", body: "نص.", authors: try await Newsroom.authorIDs(site, count: 1), edition: "ar") + [("slug", "my-arabic-piece")], action: "save")
            let editor = try #require(mine)
            let rival = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let refused = try await author.submit(try await author.get(editor), action: editor + "/translation", ["translation": rival.id!.uuidString])
            #expect(refused.status == .forbidden)
            #expect(try await Article.find(rival.id, on: site.app.db)?.translationGroup == rival.translationGroup)
        }
    }

    @Test("a contributor picks existing topics but cannot add new ones")
    func contributorCannotCreateTopics() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (contributor, _) = try await Newsroom.signedIn(site, as: .contributor)
            let (refused, _) = try await Newsroom.create(contributor, [("title", "Draft"), ("edition", "en"), ("kind", "news"), ("visibility", "public"), ("body", "Text."), ("newTopics", "A made-up topic")], action: "save")
            #expect(refused.status == .unprocessableEntity)
            #expect(refused.body.contains("ask an editor to add a new one"))
            #expect(try await Topic.query(on: site.app.db).count() == 0)
            #expect(try await Article.query(on: site.app.db).count() == 0)
        }
    }

    @Test("sign-in guesses sent at once are counted before the password is checked, so no more than five are tried", arguments: TestDatabase.available)
    func parallelGuessesAreCounted(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let staff = try await Newsroom.hire(site, .editor)
            let checks = PasswordChecks()
            let outcomes = try await withThrowingTaskGroup(of: StaffSignIn.Outcome.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await StaffSignIn(database: site.app.db, now: Date()).signIn(email: staff.email, password: "a wrong guess", clientAddress: "203.0.113.7") { _, hash in
                            // Refusals past the limit check a decoy, so they take as long; only
                            // checks against the account's own password count as guesses.
                            if hash == staff.passwordHash { await checks.count() }
                            try await Task.sleep(for: .milliseconds(50))
                            return false
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(await checks.total <= StaffSignIn.maximumFailures)
            #expect(outcomes.filter { $0 == .refused }.count <= StaffSignIn.maximumFailures - 1)
            let afterwards = try await StaffSignIn(database: site.app.db, now: Date()).signIn(email: staff.email, password: Newsroom.password, clientAddress: "203.0.113.7") { _, _ in true }
            #expect(afterwards == .locked)
        }
    }
}

/// How many passwords a sign-in test's verifier was asked to check.
private actor PasswordChecks {
    private(set) var total = 0

    func count() { total += 1 }
}
