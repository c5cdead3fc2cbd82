import Fluent
import Foundation
import Testing
@testable import Masthead

/// The admin's members list, its CSV export, and the audit log of staff actions.
@Suite("Members list and audit log", .serialized)
struct MembersAndAuditTests {
    @Test("an admin filters members by plan and downloads them as CSV, and the export is logged")
    func membersCSV() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let paid = Member(email: "paying@example.com", name: "Paying, Reader")
            paid.paidUntil = Date().addingTimeInterval(86_400 * 200)
            try await paid.create(on: site.app.db)
            try await Member(email: "free@example.com", name: "=HYPERLINK(\"x\")").create(on: site.app.db)
            let (admin, staff) = try await Newsroom.signedIn(site, as: .admin)

            let list = try await admin.get("/admin/members?plan=paid")
            #expect(list.body.contains("1 members"))
            #expect(list.body.contains("paying@example.com") && !list.body.contains("free@example.com"))

            let csv = try await admin.get("/admin/members.csv")
            #expect(csv.headers.first(name: .contentType) == "text/csv; charset=utf-8")
            #expect(csv.headers.first(name: .contentDisposition) == "attachment; filename=\"members.csv\"")
            let lines = csv.body.components(separatedBy: "\r\n")
            #expect(lines[0] == "email,name,plan,paid_until,joined,subscription_plan,subscription_status,complimentary_until")
            #expect(lines.contains { $0.hasPrefix("paying@example.com,\"Paying, Reader\",paid,") })
            #expect(lines.contains { $0.hasPrefix("free@example.com,\"'=HYPERLINK(\"\"x\"\")\",free,,") })

            let audit = try await admin.get("/admin/audit")
            #expect(audit.body.contains("<td>\(staff.email)</td><td>exported members</td><td dir=\"auto\">2 members</td>"))
        }
    }

    @Test("an admin finds members by plan and by subscription state, and the CSV says both", arguments: TestDatabase.available)
    func filterByPlanAndStatus(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            try await DemoMembers.loadIfNone(on: site.app.db)
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let pastDue = try await Subscription.query(on: site.app.db).filter(\.$status == .pastDue).with(\.$member).all()
            #expect(pastDue.count == 2)
            let list = try await admin.get("/admin/members?status=past_due")
            #expect(list.body.contains("2 members"))
            for subscription in pastDue { #expect(list.body.contains(subscription.member.email)) }

            let yearly = try await Subscription.query(on: site.app.db).join(Masthead.Plan.self, on: \Subscription.$plan.$id == \Masthead.Plan.$id)
                .filter(Masthead.Plan.self, \.$slug == "yearly").count()
            #expect(try await admin.get("/admin/members?plan=yearly").body.contains("\(yearly) members"))

            let csv = try await admin.get("/admin/members.csv?status=refunded")
            let rows = csv.body.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.count == 2)
            #expect(rows[1].contains(",refunded,"))
        }
    }

    @Test("an admin opens a member's account and signs them out of every browser")
    func memberDetail() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let member = Member(email: "reader@example.com", name: "Reader")
            try await member.create(on: site.app.db)
            let session = try await MemberSessions(database: site.app.db, now: Date()).create(for: member)
            #expect(try await site.get("/account", headers: [("Cookie", "mh_session=\(session)")]).status == .ok)

            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let list = try await admin.get("/admin/members")
            let path = try #require(HTML.internalLinks(in: list.body).first { $0.hasPrefix("/admin/members/") })
            let page = try await admin.get(path)
            #expect(page.body.contains("<dt>Signed-in browsers</dt><dd>1, the latest signed in"))
            #expect(try await admin.submit(page, action: path + "/signout").status == .seeOther)
            #expect(try await site.get("/account", headers: [("Cookie", "mh_session=\(session)")]).status != .ok)
            #expect(try await admin.get("/admin/audit").body.contains("<td>signed out member</td><td dir=\"auto\">reader@example.com</td>"))
        }
    }

    @Test("publishing, inviting and role changes each appear in the audit log with who did them")
    func auditLog() async throws {
        try await withSite(on: .sqlite) { site in
            let (owner, staff) = try await Newsroom.signedIn(site, as: .owner)
            _ = try await Newsroom.create(owner, Newsroom.articleFields(title: "Audited piece", body: "Text.", authors: try await Newsroom.authorIDs(site, count: 1)), action: "publish")
            _ = try await owner.submit(try await owner.get("/admin/staff"), action: "/admin/staff", ["email": "new@newsroom.example", "role": "editor"])
            let invitee = try #require(try await Staff.query(on: site.app.db).filter(\.$email == "new@newsroom.example").first())
            _ = try await owner.submit(try await owner.get("/admin/staff"), action: "/admin/staff/\(invitee.id!)/role", ["role": "author"])

            let page = try await owner.get("/admin/audit")
            #expect(page.body.contains("<td>\(staff.email)</td><td>created</td><td dir=\"auto\">Audited piece</td>"))
            #expect(page.body.contains("<td>\(staff.email)</td><td>invited editor</td><td dir=\"auto\">new@newsroom.example</td>"))
            #expect(page.body.contains("<td>\(staff.email)</td><td>changed role editor → author</td>"))
        }
    }

    @Test("CSV fields are quoted when they hold commas or quotes, and formulas are defused")
    func csvFields() {
        #expect(MembersAdminController.csvField("plain") == "plain")
        #expect(MembersAdminController.csvField("a, b") == "\"a, b\"")
        // A lone line feed or carriage return would otherwise start a row of the writer's choosing.
        #expect(MembersAdminController.csvField("Bob\n=1+2") == "\"Bob\n=1+2\"")
        #expect(MembersAdminController.csvField("Bob\r=1+2") == "\"Bob\r=1+2\"")
        #expect(MembersAdminController.csvField("\n=1+2") == "\"'\n=1+2\"")
        #expect(MembersAdminController.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(MembersAdminController.csvField("=1+1") == "'=1+1")
        #expect(MembersAdminController.csvField("@cmd") == "'@cmd")
    }
}
