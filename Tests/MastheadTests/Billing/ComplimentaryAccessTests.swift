import Fluent
import Foundation
import Testing
@testable import Masthead

/// Paid access staff give without payment: to one member, or to everyone at an email domain.
@Suite("Complimentary access", .serialized)
struct ComplimentaryAccessTests {
    private func nextYear() -> String {
        Date().addingTimeInterval(86_400 * 365).formatted(.iso8601.year().month().day())
    }

    @Test("an admin gives a member access until a date, and can withdraw it", arguments: TestDatabase.available)
    func oneMember(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let reader = try await TestModeJourneyTests.signedInReader(site, email: "guest@example.com")
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "guest@example.com"))
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            #expect(try await reader.get("/articles/\(article.slug)").body.contains("class=\"paywall\""))

            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let page = try await admin.get("/admin/members/\(member.id!.uuidString)")
            let grantAction = "/admin/members/\(member.id!.uuidString)/complimentary"
            let granted = try await admin.submit(page, action: grantAction, ["until": nextYear(), "note": "Conference speaker"])
            #expect(granted.status == .seeOther)
            #expect(try await eventually { !(try await reader.get("/articles/\(article.slug)")).body.contains("class=\"paywall\"") })
            let withGrant = try await admin.get("/admin/members/\(member.id!.uuidString)")
            #expect(withGrant.body.contains("Conference speaker"))
            #expect(try await AuditEvent.query(on: site.app.db).filter(\.$action == "gave complimentary access").count() == 1)

            let revoke = try #require(HTML.attributeValues("action", of: "form", in: withGrant.body).first { $0.hasSuffix("/revoke") })
            _ = try await admin.submit(withGrant, action: revoke)
            #expect(try await eventually { (try await reader.get("/articles/\(article.slug)")).body.contains("class=\"paywall\"") })
        }
    }

    @Test("a grant to a domain covers its members and those who join later, and no one else", arguments: TestDatabase.available)
    func wholeDomain(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let existing = try await TestModeJourneyTests.signedInReader(site, email: "lecturer@uni.example.edu")
            let outsider = try await TestModeJourneyTests.signedInReader(site, email: "someone@notuni.example.edu")
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let granted = try await admin.submit(try await admin.get("/admin/complimentary"), action: "/admin/complimentary", ["domain": "Uni.Example.edu", "until": nextYear(), "note": "Campus licence"])
            #expect(granted.status == .seeOther)

            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            #expect(try await eventually { !(try await existing.get("/articles/\(article.slug)")).body.contains("class=\"paywall\"") })
            #expect(try await outsider.get("/articles/\(article.slug)").body.contains("class=\"paywall\""))
            let newcomer = try await TestModeJourneyTests.signedInReader(site, email: "student@chem.uni.example.edu")
            #expect(!(try await newcomer.get("/articles/\(article.slug)")).body.contains("class=\"paywall\""))

            let list = try await admin.get("/admin/complimentary")
            #expect(list.body.contains("uni.example.edu") && list.body.contains("Campus licence"))
            let revoke = try #require(HTML.attributeValues("action", of: "form", in: list.body).first { $0.hasSuffix("/revoke") })
            _ = try await admin.submit(list, action: revoke)
            #expect(try await eventually { (try await existing.get("/articles/\(article.slug)")).body.contains("class=\"paywall\"") })
            #expect(try await newcomer.get("/articles/\(article.slug)").body.contains("class=\"paywall\""))
        }
    }

    @Test("a bad domain or date is refused with a reason and gives nothing; an editor may not give access", arguments: [TestDatabase.sqlite])
    func refused(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let form = try await admin.get("/admin/complimentary")
            let badDomain = try await admin.submit(form, action: "/admin/complimentary", ["domain": "not a domain", "until": nextYear()])
            #expect(badDomain.status == .unprocessableEntity && badDomain.body.contains("Give a domain such as"))
            let pastDate = try await admin.submit(form, action: "/admin/complimentary", ["domain": "example.org", "until": "2001-01-01"])
            #expect(pastDate.status == .unprocessableEntity && pastDate.body.contains("last day of access"))
            #expect(try await ComplimentaryAccess.query(on: site.app.db).count() == 0)

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            #expect(try await editor.get("/admin/complimentary").status == .forbidden)
        }
    }
}
