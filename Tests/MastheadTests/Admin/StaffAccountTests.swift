import Fluent
import Foundation
import Testing
@testable import Masthead

/// Joining the staff by invitation, resetting a password and two-step sign-in.
@Suite("Staff accounts", .serialized)
struct StaffAccountTests {
    @Test("an invited author chooses a password from the emailed link and signs in with it")
    func invitation() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let invited = try await owner.submit(try await owner.get("/admin/staff"), action: "/admin/staff", ["email": "Layla@Newsroom.example", "name": "Layla Haddad", "role": "author"])
            #expect(invited.status == .seeOther)
            #expect(try await owner.get("/admin/staff").body.contains("<td>layla@newsroom.example</td><td>author</td><td>invited</td>"))

            let link = try DevelopmentMail.latestPath(site, containing: "/admin/password?token=")
            let newcomer = TestBrowser(site: site)
            #expect(try await newcomer.submit(try await newcomer.get("/admin/signin"), action: "/admin/signin", ["email": "layla@newsroom.example", "password": ""]).status == .unauthorized)
            let form = try await newcomer.get(link)
            #expect(form.body.contains("Welcome to the"))
            let short = try await newcomer.submit(form, action: "/admin/password", ["password": "short"])
            #expect(short.status == .unprocessableEntity)
            let set = try await newcomer.submit(form, action: "/admin/password", ["password": "layla's long password"])
            #expect(set.status == .seeOther)
            #expect(try await newcomer.get(link).status == .badRequest)

            let signedIn = try await newcomer.submit(try await newcomer.get("/admin/signin"), action: "/admin/signin", ["email": "layla@newsroom.example", "password": "layla's long password"])
            #expect(signedIn.status == .seeOther)
            #expect(try await newcomer.get("/admin").body.contains("Signed in as Layla Haddad (author)"))
        }
    }

    @Test("an invitation can be sent again; only the newest link works")
    func resendInvitation() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            _ = try await admin.submit(try await admin.get("/admin/staff"), action: "/admin/staff", ["email": "late@newsroom.example", "role": "editor"])
            let first = try DevelopmentMail.latestPath(site, containing: "/admin/password?token=")
            let invitee = try #require(try await Staff.query(on: site.app.db).filter(\.$email == "late@newsroom.example").first())
            // The mail folder's clock has a resolution of a second: make the second email newer.
            try await Task.sleep(for: .milliseconds(1100))
            let resent = try await admin.submit(try await admin.get("/admin/staff"), action: "/admin/staff/\(invitee.id!)/resend")
            #expect(resent.status == .seeOther)
            let second = try DevelopmentMail.latestPath(site, containing: "/admin/password?token=")
            #expect(second != first)
            let stranger = TestBrowser(site: site)
            #expect(try await stranger.get(first).status == .badRequest)
            #expect(try await stranger.get(second).status == .ok)
        }
    }

    @Test("a forgotten password is reset by an emailed link that works once and signs out every old session")
    func passwordReset() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (oldBrowser, staff) = try await Newsroom.signedIn(site, as: .editor)
            let stranger = TestBrowser(site: site)
            let unknown = try await stranger.submit(try await stranger.get("/admin/reset"), action: "/admin/reset", ["email": "nobody@newsroom.example"])
            let known = try await stranger.submit(try await stranger.get("/admin/reset"), action: "/admin/reset", ["email": staff.email])
            #expect(unknown.status == .ok && known.status == .ok)
            #expect(HTML.text(of: unknown.body) == HTML.text(of: known.body).replacingOccurrences(of: staff.email, with: "nobody@newsroom.example"))
            // The email leaves after the answer, so that its delay says nothing.
            #expect(try await eventually { try DevelopmentMail.links(site, containing: "/admin/password?token=").count == 1 })

            let link = try DevelopmentMail.latestPath(site, containing: "/admin/password?token=")
            let reset = try await stranger.submit(try await stranger.get(link), action: "/admin/password", ["password": "a brand new password"])
            #expect(reset.status == .seeOther)
            #expect(try await oldBrowser.get("/admin").status == .seeOther)
            #expect(try await stranger.get(link).status == .badRequest)
            let withOld = try await stranger.submit(try await stranger.get("/admin/signin"), action: "/admin/signin", ["email": staff.email, "password": Newsroom.password])
            #expect(withOld.status == .unauthorized)
            let withNew = try await stranger.submit(try await stranger.get("/admin/signin"), action: "/admin/signin", ["email": staff.email, "password": "a brand new password"])
            #expect(withNew.status == .seeOther)
        }
    }

    @Test("reset requests sent at once issue no more links than the hourly limit, and a client asking too often gets the same answer and no mail", arguments: TestDatabase.available)
    func resetLimits(on database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let staff = try await Newsroom.hire(site, .editor)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let browser = TestBrowser(site: site)
                        let answer = try await browser.submit(try await browser.get("/admin/reset"), action: "/admin/reset", ["email": staff.email])
                        #expect(answer.status == .ok)
                    }
                }
                try await group.waitForAll()
            }
            await site.app.storage[DetachedWorkKey.self]?.finish()
            let links = try await StaffToken.query(on: site.app.db).filter(\.$staff.$id == staff.requireID()).filter(\.$purpose == .reset).count()
            #expect(links == StaffPasswords.resetsPerHour)

            // Within a minute's window (two, should the test cross a minute), a client gets at
            // most the limit's worth of links, whoever they are for.
            let browser = TestBrowser(site: site)
            let colleagues = 2 * RateLimits.staffResetsPerMinute + 1
            var answers = Set<String>()
            for number in 0..<colleagues {
                let colleague = try await Newsroom.hire(site, .author, email: "colleague\(number)@newsroom.example")
                let answer = try await browser.submit(try await browser.get("/admin/reset"), action: "/admin/reset", ["email": colleague.email])
                #expect(answer.status == .ok)
                answers.insert(HTML.text(of: answer.body).replacingOccurrences(of: colleague.email, with: "someone"))
            }
            #expect(answers.count == 1)
            await site.app.storage[DetachedWorkKey.self]?.finish()
            let issued = try await StaffToken.query(on: site.app.db).filter(\.$purpose == .reset).count() - links
            #expect(issued > 0 && issued < colleagues)
        }
    }

    @Test("with two-step sign-in on, the password alone is not enough, and a code works only once")
    func twoStepSignIn() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (browser, staff) = try await Newsroom.signedIn(site, as: .editor)
            let setup = try await browser.get("/admin/security")
            let secret = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"secret\"", in: setup.body).first)
            let totp = try #require(TOTP(base32: secret))
            let wrong = try await browser.submit(setup, action: "/admin/security/totp", ["code": "000000" == totp.code(counter: TOTP.counter(at: Date())) ? "111111" : "000000"])
            #expect(wrong.status == .unprocessableEntity)
            let now = TOTP.counter(at: Date())
            #expect(try await browser.submit(setup, action: "/admin/security/totp", ["code": totp.code(counter: now)]).status == .seeOther)

            let secretBefore = try await Staff.find(staff.id, on: site.app.db)?.totpSecret
            _ = try await browser.submit(setup, action: "/admin/security/totp", ["code": totp.code(counter: now)])
            #expect(try await Staff.find(staff.id, on: site.app.db)?.totpSecret == secretBefore)

            let other = TestBrowser(site: site)
            let passwordOnly = try await other.submit(try await other.get("/admin/signin"), action: "/admin/signin", ["email": staff.email, "password": Newsroom.password])
            #expect(passwordOnly.status == .ok)
            #expect(passwordOnly.body.contains("Code from your authenticator app"))
            #expect(try await other.get("/admin").status == .seeOther)
            let replayed = try await other.submit(passwordOnly, action: "/admin/signin", ["email": staff.email, "password": Newsroom.password, "code": totp.code(counter: now)])
            #expect(replayed.status == .unauthorized)
            let next = try await other.submit(passwordOnly, action: "/admin/signin", ["email": staff.email, "password": Newsroom.password, "code": totp.code(counter: now + 1)])
            #expect(next.status == .seeOther)
            #expect(try await other.get("/admin").status == .ok)
        }
    }

    @Test("a staff member changes their password with the current one, and their other browsers are signed out")
    func changePassword() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (laptop, staff) = try await Newsroom.signedIn(site, as: .author)
            let phone = TestBrowser(site: site)
            _ = try await phone.submit(try await phone.get("/admin/signin"), action: "/admin/signin", ["email": staff.email, "password": Newsroom.password])
            let page = try await laptop.get("/admin/security")
            let wrong = try await laptop.submit(page, action: "/admin/security/password", ["current": "not my password", "new": "a fresh long password"])
            #expect(wrong.status == .unprocessableEntity)
            #expect(try await laptop.submit(page, action: "/admin/security/password", ["current": Newsroom.password, "new": "a fresh long password"]).status == .seeOther)
            #expect(try await laptop.get("/admin").status == .ok)
            #expect(try await phone.get("/admin").status == .seeOther)
            let again = TestBrowser(site: site)
            #expect(try await again.submit(try await again.get("/admin/signin"), action: "/admin/signin", ["email": staff.email, "password": "a fresh long password"]).status == .seeOther)
        }
    }

    @Test("TOTP codes match RFC 6238's SHA-1 test vectors")
    func totpVectors() throws {
        let totp = TOTP(secret: Data("12345678901234567890".utf8))
        let vectors: [(TimeInterval, String)] = [(59, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (2_000_000_000, "69279037")]
        for (time, expected) in vectors {
            #expect(totp.code(counter: TOTP.counter(at: Date(timeIntervalSince1970: time)), digits: 8) == expected)
        }
        #expect(TOTP(base32: totp.base32)?.secret == totp.secret)
        #expect(totp.base32 == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(totp.matchingCounter(for: totp.code(counter: 41), at: Date(timeIntervalSince1970: 41 * 30 + 10)) == 41)
        #expect(totp.matchingCounter(for: totp.code(counter: 39), at: Date(timeIntervalSince1970: 41 * 30 + 10)) == nil)
    }
}
