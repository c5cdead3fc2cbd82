import Fluent
import Foundation
import Testing
@testable import Masthead

/// The owner's plans: what readers can buy, in which currencies, offered or archived.
@Suite("Plans in the admin", .serialized)
struct PlansAdminTests {
    @Test("the owner adds a plan with prices in two currencies; readers see it; archived, it is gone", arguments: TestDatabase.available)
    func addAndArchive(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let form = try await owner.get("/admin/plans/new")
            let saved = try await owner.post("/admin/plans/new", form: [
                "csrf": HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: form.body).first ?? "",
                "name": "Student", "description": "For students, with a card from their university.", "interval": "month",
                "trialDays": "14", "active": "1", "currency[]": "USD", "amount[]": "4.50",
            ])
            #expect(saved.status == .seeOther)
            let plan = try #require(try await Plan.query(on: site.app.db).filter(\.$name == "Student").with(\.$prices).first())
            #expect(plan.slug == "student" && plan.interval == .month && plan.trialDays == 14)
            #expect(plan.prices.map(\.amountMinor) == [450])

            let plans = try await site.get("/join")
            #expect(plans.body.contains("<span class=\"plan__amount\">$4.50</span> per month"))
            #expect(plans.body.contains("The first 14 days are free."))
            #expect(try await owner.get("/admin/plans").body.contains("Student"))

            let edit = try await owner.get("/admin/plans/\(plan.id!)")
            #expect(edit.body.contains("value=\"4.50\""))
            _ = try await owner.post("/admin/plans/\(plan.id!)", form: [
                "csrf": HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: edit.body).first ?? "",
                "name": "Student", "description": "", "interval": "month", "trialDays": "14", "currency[]": "USD", "amount[]": "4.50",
            ])
            #expect(!(try await site.get("/join")).body.contains("Student"))
            #expect(try await AuditEvent.query(on: site.app.db).filter(\.$subject == "Student").count() == 2)
        }
    }

    @Test("a plan named in Arabic is offered by that name on the Arabic plans page, and by its own name elsewhere", arguments: [TestDatabase.sqlite])
    func translated(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let form = try await owner.get("/admin/plans/new")
            #expect(form.body.contains("Name (العربية)") || form.body.contains("name=\"translationName[]\""))
            _ = try await owner.post("/admin/plans/new", form: [
                "csrf": HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: form.body).first ?? "",
                "name": "Student", "description": "For students.", "interval": "year", "trialDays": "0", "active": "1",
                "currency[]": "USD", "amount[]": "40", "translationEdition[]": "ar", "translationName[]": "الطلاب", "translationDescription[]": "للطلاب.",
            ])
            let arabic = try await site.get("/ar/join")
            #expect(arabic.body.contains("<h2 class=\"plan__name\">الطلاب</h2>"))
            #expect(arabic.body.contains("للطلاب."))
            #expect(arabic.body.contains("<h2 class=\"plan__name\">سنوي</h2>"))
            #expect(try await site.get("/join").body.contains("<h2 class=\"plan__name\">Student</h2>"))
        }
    }

    @Test("a plan with a bad price is refused whole, with the reason; only the owner manages plans", arguments: [TestDatabase.sqlite])
    func refused(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let form = try await owner.get("/admin/plans/new")
            let token = HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: form.body).first ?? ""
            let before = try await Plan.query(on: site.app.db).count()
            for (amount, reason) in [("ten", "give the amount as readers pay it"), ("-5", "give the amount as readers pay it"), ("9.999", "give the amount as readers pay it")] {
                let refused = try await owner.post("/admin/plans/new", form: ["csrf": token, "name": "Broken", "interval": "year", "trialDays": "0", "currency[]": "USD", "amount[]": amount])
                #expect(refused.status == .unprocessableEntity)
                #expect(refused.body.contains(reason), "\(amount)")
            }
            let noName = try await owner.post("/admin/plans/new", form: ["csrf": token, "name": "", "interval": "year", "trialDays": "0", "currency[]": "USD", "amount[]": "10"])
            #expect(noName.body.contains("Give the plan a name"))
            #expect(try await Plan.query(on: site.app.db).count() == before)

            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            #expect(try await admin.get("/admin/plans").status == .forbidden)
        }
    }

    @Test("amounts are read as staff type them, in the currency's own minor unit")
    func amounts() {
        #expect(Money.parse("100", currency: "usd") == 10_000)
        #expect(Money.parse("9.5", currency: "eur") == 950)
        #expect(Money.parse("35.250", currency: "kwd") == 35_250)
        #expect(Money.parse("500", currency: "jpy") == 500)
        #expect(Money.parse("5.5", currency: "jpy") == nil)
        #expect(Money.parse("1,000", currency: "usd") == nil)
        #expect(Money(minor: 950, currency: "eur").plain == "9.50")
        #expect(Money(minor: 10_000, currency: "usd").plain == "100")
        #expect(Money(minor: 35_005, currency: "kwd").plain == "35.005")
    }
}
