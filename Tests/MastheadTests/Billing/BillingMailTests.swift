import Fluent
import Foundation
import Testing
@testable import Masthead

/// What members are told about their membership, in their edition, through the outbox.
@Suite("Billing mail", .serialized)
struct BillingMailTests {
    private func outbox(_ site: TestSite, purpose: String) async throws -> [OutboxMessage] {
        try await OutboxMessage.query(on: site.app.db).filter(\.$purpose == purpose).all()
    }

    @Test("paying sends a welcome with the plan and price; cancelling, a confirmation with the last day", arguments: TestDatabase.available)
    func welcomeAndCancellation(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = try await TestModeJourneyTests.signedInReader(site, email: "joiner@example.com")
            let checkoutPath = try await TestModeJourneyTests.startCheckout(browser, plan: "yearly")
            _ = try await browser.submit(try await browser.get(checkoutPath), action: checkoutPath, ["outcome": "pay"])
            let welcome = try #require(try await outbox(site, purpose: "billing.welcome").first)
            #expect(welcome.toEmail == "joiner@example.com")
            #expect(welcome.subject == "Welcome to Masthead Test: your Yearly membership")
            #expect(welcome.textBody.contains("$100 per year"))
            #expect(try await eventually { (try await OutboxMessage.find(welcome.id, on: site.app.db))?.sentAt != nil })
            #expect(try DevelopmentMail.links(site, containing: "/account").count >= 1)

            let portal = try await browser.get("/billing/test-portal")
            _ = try await browser.submit(portal, action: "/billing/test-portal", ["cancel": "yes"])
            let cancelled = try await outbox(site, purpose: "billing.cancelled")
            #expect(cancelled.count == 1)
            #expect(cancelled.first?.textBody.contains("You keep reading everything until") == true)
            // The later events about the same subscription do not welcome the member again.
            #expect(try await outbox(site, purpose: "billing.welcome").count == 1)
        }
    }

    @Test("a failed card is told once, in Arabic for a reader who joined from the Arabic edition", arguments: [TestDatabase.sqlite])
    func paymentFailedInArabic(database: TestDatabase) async throws {
        let stripe = try await LocalStripe.start()
        defer { Task { await stripe.stop() } }
        try await withSite(on: database, configure: {
            $0.billing = BillingSettings(stripe: .init(secretKey: LocalStripe.secretKey, webhookSecret: LocalStripe.webhookSecret, apiBase: stripe.baseURL))
        }) { site in
            _ = try await TestModeJourneyTests.signedInReader(site, email: "qari@example.com")
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "qari@example.com"))
            let checkout = Checkout(memberID: try member.requireID(), priceID: try await PlanPrice.query(on: site.app.db).first()!.requireID(), returnPath: "/ar/", edition: "ar", createdAt: Date())
            try await checkout.create(on: site.app.db)
            let now = Date()
            let created = StripeEvents.event("customer.subscription.created", StripeEvents.subscription(id: "sub_ar", customer: "cus_ar", memberID: member.id, status: "active", periodEnd: now.addingTimeInterval(86_400 * 30)), created: now)
            _ = try await StripeEvents.deliver(created, to: site)
            let pastDue = StripeEvents.event("customer.subscription.updated", StripeEvents.subscription(id: "sub_ar", customer: "cus_ar", memberID: member.id, status: "past_due", periodEnd: now.addingTimeInterval(86_400 * 30)), created: now.addingTimeInterval(1))
            let failed = StripeEvents.event("invoice.payment_failed", ["id": "in_ar", "object": "invoice", "customer": "cus_ar", "subscription": "sub_ar"], created: now.addingTimeInterval(1))
            _ = try await StripeEvents.deliver(pastDue, to: site)
            _ = try await StripeEvents.deliver(failed, to: site)
            let notices = try await outbox(site, purpose: "billing.payment_failed")
            #expect(notices.count == 1)
            let notice = try #require(notices.first)
            #expect(notice.subject.contains("لم تكتمل دفعتك"))
            #expect(notice.htmlBody.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(notice.htmlBody.contains("https://news.example/ar/account"))
        }
    }

    @Test("each renewal paid sends a receipt with the new end of the period; the first invoice does not", arguments: [TestDatabase.sqlite])
    func renewalReceipt(database: TestDatabase) async throws {
        let stripe = try await LocalStripe.start()
        defer { Task { await stripe.stop() } }
        try await withSite(on: database, configure: {
            $0.billing = BillingSettings(stripe: .init(secretKey: LocalStripe.secretKey, webhookSecret: LocalStripe.webhookSecret, apiBase: stripe.baseURL))
        }) { site in
            _ = try await TestModeJourneyTests.signedInReader(site, email: "renewer@example.com")
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "renewer@example.com"))
            let now = Date()
            let periodEnd = now.addingTimeInterval(86_400 * 30)
            _ = try await StripeEvents.deliver(StripeEvents.event("customer.subscription.created", StripeEvents.subscription(id: "sub_r", customer: "cus_r", memberID: member.id, status: "active", periodEnd: periodEnd), created: now), to: site)
            func invoice(_ id: String, reason: String, end: Date) -> Data {
                StripeEvents.event("invoice.paid", [
                    "id": id, "object": "invoice", "customer": "cus_r", "subscription": "sub_r", "billing_reason": reason, "amount_paid": 10_000, "currency": "usd",
                    "lines": ["data": [["period": ["start": Int(now.timeIntervalSince1970), "end": Int(end.timeIntervalSince1970)]]]],
                ], created: now.addingTimeInterval(1))
            }
            _ = try await StripeEvents.deliver(invoice("in_first", reason: "subscription_create", end: periodEnd), to: site)
            #expect(try await outbox(site, purpose: "billing.receipt").isEmpty)
            let renewedEnd = periodEnd.addingTimeInterval(86_400 * 365)
            _ = try await StripeEvents.deliver(invoice("in_second", reason: "subscription_cycle", end: renewedEnd), to: site)
            let receipts = try await outbox(site, purpose: "billing.receipt")
            #expect(receipts.count == 1)
            #expect(receipts.first?.textBody.contains(EditionDates(edition: try #require(Theme.load(directory: site.settings.themeDirectory, editionCodes: ["en"]).editions["en"])).day(renewedEnd)) == true)
        }
    }

    @Test("complimentary access is announced with its last day", arguments: [TestDatabase.sqlite])
    func complimentary(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            _ = try await TestModeJourneyTests.signedInReader(site, email: "guest@example.com")
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "guest@example.com"))
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            _ = try await admin.submit(try await admin.get("/admin/members/\(member.id!)"), action: "/admin/members/\(member.id!)/complimentary", ["until": "2099-06-30", "note": ""])
            let notice = try #require(try await outbox(site, purpose: "billing.complimentary").first)
            #expect(notice.textBody.contains("until 30 June 2099"))
        }
    }
}
