import Fluent
import Foundation
import Testing
@testable import Masthead

/// Masthead with `MASTHEAD_STRIPE_*` pointed at a local endpoint that speaks Stripe's API, and
/// webhooks signed exactly as Stripe signs them.
@Suite("Stripe checkout and webhooks", .serialized)
struct StripeWebhookTests {
    /// A site billing through the local Stripe, with one member signed in.
    private func withStripeSite(on database: TestDatabase, _ body: (TestSite, LocalStripe, TestBrowser, Member) async throws -> Void) async throws {
        let stripe = try await LocalStripe.start()
        do {
            try await withSite(on: database, configure: {
                $0.billing = BillingSettings(stripe: .init(secretKey: LocalStripe.secretKey, webhookSecret: LocalStripe.webhookSecret, apiBase: stripe.baseURL))
            }) { site in
                let browser = try await TestModeJourneyTests.signedInReader(site, email: "payer@example.com")
                let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "payer@example.com"))
                try await body(site, stripe, browser, member)
            }
        } catch {
            await stripe.stop()
            throw error
        }
        await stripe.stop()
    }

    private func member(_ site: TestSite, _ member: Member) async throws -> Member {
        try #require(try await Member.find(member.requireID(), on: site.app.db))
    }

    private func subscriptionCreated(_ member: Member, id: String = "sub_1", status: String = "active", periodEnd: Date, created: Date = Date(), eventID: String? = nil) throws -> Data {
        StripeEvents.event("customer.subscription.created", StripeEvents.subscription(id: id, customer: "cus_1", memberID: try member.requireID(), status: status, periodEnd: periodEnd), created: created, id: eventID ?? "evt_\(UUID().uuidString.prefix(12))")
    }

    @Test("checkout goes to Stripe with the member, the price and an idempotency key, and survives a Stripe 500", arguments: [TestDatabase.sqlite])
    func checkoutSession(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, stripe, browser, member in
            stripe.failNext(1)
            let plans = try await browser.get("/join?return=/")
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: plans.body).first)
            let response = try await browser.post("/join/checkout", form: ["plan": "yearly", "currency": "usd", "return": "/", "csrf": token])
            #expect(response.status == .seeOther)
            #expect(response.headers.first(name: .location)?.hasPrefix("https://checkout.stripe.test/c/pay/cs_test_") == true)

            let calls = stripe.requests.filter { $0.path == "/v1/checkout/sessions" }
            try #require(calls.count == 2)
            #expect(calls[0].idempotencyKey != nil && calls[0].idempotencyKey == calls[1].idempotencyKey)
            let form = calls[1].form
            #expect(form["mode"] == "subscription")
            #expect(form["customer_email"] == "payer@example.com")
            #expect(form["subscription_data[metadata][masthead_member]"] == member.id?.uuidString)
            #expect(form["line_items[0][price_data][unit_amount]"] == "10000")
            #expect(form["line_items[0][price_data][currency]"] == "usd")
            #expect(form["line_items[0][price_data][recurring][interval]"] == "year")
            let checkout = try #require(try await Checkout.query(on: site.app.db).first())
            #expect(form["client_reference_id"] == checkout.id?.uuidString)
            #expect(form["success_url"] == "https://news.example/join/done?checkout=\(checkout.id!.uuidString)")
        }
    }

    @Test("sync-plans creates each plan's product and prices at Stripe once, and checkout then names them", arguments: [TestDatabase.sqlite])
    func syncPlans(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, stripe, browser, _ in
            let created = try await StripePlanSync.run(app: site.app, settings: site.settings) { _ in }
            let prices = try await PlanPrice.query(on: site.app.db).with(\.$plan).all()
            #expect(created == prices.count && created == 4)
            #expect(prices.allSatisfy { $0.providerPriceID?.hasPrefix("price_") == true })
            #expect(stripe.requests.filter { $0.path == "/v1/products" }.count == 2)
            let yearlyUSD = try #require(stripe.requests.first { $0.path == "/v1/prices" && $0.form["currency"] == "usd" && $0.form["recurring[interval]"] == "year" })
            #expect(yearlyUSD.form["unit_amount"] == "10000")
            #expect(try await StripePlanSync.run(app: site.app, settings: site.settings) { _ in } == 0)

            let plans = try await browser.get("/join?return=/")
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: plans.body).first)
            _ = try await browser.post("/join/checkout", form: ["plan": "yearly", "currency": "usd", "return": "/", "csrf": token])
            let checkout = try #require(stripe.requests.last { $0.path == "/v1/checkout/sessions" })
            let yearly = try #require(prices.first { $0.plan.slug == "yearly" && $0.currency == "usd" })
            #expect(checkout.form["line_items[0][price]"] == yearly.providerPriceID)
            #expect(checkout.form["line_items[0][price_data][unit_amount]"] == nil)
        }
    }

    @Test("a signed subscription event makes the member paying; the return page then sends them back", arguments: TestDatabase.available)
    func webhookBeforeReturn(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, browser, member in
            let checkout = Checkout(memberID: try member.requireID(), priceID: try await PlanPrice.query(on: site.app.db).first()!.requireID(), returnPath: "/news", edition: "en", createdAt: Date())
            try await checkout.create(on: site.app.db)
            let periodEnd = Date().addingTimeInterval(365 * 86_400)
            let delivered = try await StripeEvents.deliver(try subscriptionCreated(member, periodEnd: periodEnd), to: site)
            #expect(delivered.status == .ok)
            #expect(delivered.body.contains("\"outcome\":\"applied\""))
            #expect(try await self.member(site, member).viewer(at: Date()) == .paidMember)

            let returned = try await browser.get("/join/done?checkout=\(checkout.id!.uuidString)")
            #expect(returned.headers.first(name: .location) == "/news")
        }
    }

    @Test("a return before any webhook waits, then says the payment is being confirmed", arguments: [TestDatabase.sqlite])
    func returnBeforeWebhook(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, browser, member in
            let checkout = Checkout(memberID: try member.requireID(), priceID: try await PlanPrice.query(on: site.app.db).first()!.requireID(), returnPath: "/news", edition: "en", createdAt: Date())
            try await checkout.create(on: site.app.db)
            let pending = try await browser.get("/join/done?checkout=\(checkout.id!.uuidString)")
            #expect(pending.status == .accepted)
            #expect(pending.body.contains("Your payment is being confirmed"))

            _ = try await StripeEvents.deliver(try subscriptionCreated(member, periodEnd: Date().addingTimeInterval(86_400 * 30)), to: site)
            #expect(try await browser.get("/join/done?checkout=\(checkout.id!.uuidString)").headers.first(name: .location) == "/news")
        }
    }

    /// A checkout Masthead opened for the member, with the session id Stripe gave it.
    private func openCheckout(_ site: TestSite, for member: Member, session: String = "cs_test_1") async throws -> Checkout {
        let checkout = Checkout(memberID: try member.requireID(), priceID: try await PlanPrice.query(on: site.app.db).first()!.requireID(), returnPath: "/", edition: "en", createdAt: Date())
        checkout.providerSessionID = session
        try await checkout.create(on: site.app.db)
        return checkout
    }

    private func completed(_ checkout: Checkout, session: String = "cs_test_1", subscription: String) -> Data {
        StripeEvents.event("checkout.session.completed", [
            "id": session, "object": "checkout.session", "mode": "subscription", "client_reference_id": checkout.id!.uuidString,
            "customer": "cus_9", "subscription": subscription, "payment_status": "paid", "status": "complete",
        ])
    }

    @Test("a completed checkout whose subscription has not arrived is fetched from the API", arguments: [TestDatabase.sqlite])
    func checkoutCompletedFetchesSubscription(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, stripe, _, member in
            let checkout = try await openCheckout(site, for: member)
            stripe.setSubscription(StripeEvents.subscription(id: "sub_fetched", customer: "cus_9", memberID: member.id, status: "active", periodEnd: Date().addingTimeInterval(86_400 * 30)))
            #expect(try await StripeEvents.deliver(completed(checkout, subscription: "sub_fetched"), to: site).status == .ok)
            #expect(stripe.requests.contains { $0.path == "/v1/subscriptions/sub_fetched" })
            #expect(try await self.member(site, member).viewer(at: Date()) == .paidMember)
        }
    }

    @Test("a completed checkout of another session, or paying for someone else's subscription, gives nothing", arguments: [TestDatabase.sqlite])
    func checkoutThatIsNotOurs(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, stripe, _, member in
            let checkout = try await openCheckout(site, for: member)
            stripe.setSubscription(StripeEvents.subscription(id: "sub_link", customer: "cus_9", memberID: nil, status: "active", periodEnd: Date().addingTimeInterval(86_400 * 30)))
            // A payment link carrying our checkout's reference: another session, no member of ours.
            let foreignSession = try await StripeEvents.deliver(completed(checkout, session: "cs_live_paymentlink", subscription: "sub_link"), to: site)
            #expect(foreignSession.body.contains("mismatched"))
            let noMember = try await StripeEvents.deliver(completed(checkout, subscription: "sub_link"), to: site)
            #expect(noMember.body.contains("mismatched"))
            #expect(try await self.member(site, member).paidUntil == nil)
            #expect(try await Subscription.query(on: site.app.db).count() == 0)
        }
    }

    @Test("a returning reader checks out as the customer Stripe knows, and gets no second trial", arguments: [TestDatabase.sqlite])
    func noSecondTrial(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, stripe, browser, member in
            let yearly = try #require(try await Plan.query(on: site.app.db).filter(\.$slug == "yearly").first())
            yearly.trialDays = 14
            try await yearly.save(on: site.app.db)
            let plans = try await browser.get("/join?return=/")
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: plans.body).first)
            _ = try await browser.post("/join/checkout", form: ["plan": "yearly", "currency": "usd", "return": "/", "csrf": token])
            #expect(stripe.requests.last?.form["subscription_data[trial_period_days]"] == "14")

            let ended = StripeEvents.subscription(id: "sub_old", customer: "cus_known", memberID: member.id, status: "canceled", periodEnd: Date().addingTimeInterval(-86_400), endedAt: Date().addingTimeInterval(-86_400))
            _ = try await StripeEvents.deliver(StripeEvents.event("customer.subscription.deleted", ended), to: site)
            _ = try await browser.post("/join/checkout", form: ["plan": "yearly", "currency": "usd", "return": "/", "csrf": token])
            let again = try #require(stripe.requests.last?.form)
            #expect(again["subscription_data[trial_period_days]"] == nil)
            #expect(again["customer"] == "cus_known" && again["customer_email"] == nil)
        }
    }

    @Test("a late 'created' of the same second does not undo the 'updated' that followed it", arguments: [TestDatabase.sqlite])
    func sameSecondOrder(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let now = Date()
            let periodEnd = now.addingTimeInterval(86_400 * 30)
            let active = StripeEvents.event("customer.subscription.updated", StripeEvents.subscription(id: "sub_1", customer: "cus_1", memberID: member.id, status: "active", periodEnd: periodEnd), created: now)
            let incomplete = StripeEvents.event("customer.subscription.created", StripeEvents.subscription(id: "sub_1", customer: "cus_1", memberID: member.id, status: "incomplete", periodEnd: periodEnd), created: now)
            #expect(try await StripeEvents.deliver(active, to: site).body.contains("applied"))
            #expect(try await StripeEvents.deliver(incomplete, to: site).body.contains("stale"))
            #expect(try await Subscription.query(on: site.app.db).first()?.status == .active)

            let deleted = StripeEvents.event("customer.subscription.deleted", StripeEvents.subscription(id: "sub_1", customer: "cus_1", memberID: member.id, status: "canceled", periodEnd: periodEnd, endedAt: now), created: now.addingTimeInterval(1))
            let lateActive = StripeEvents.event("customer.subscription.updated", StripeEvents.subscription(id: "sub_1", customer: "cus_1", memberID: member.id, status: "active", periodEnd: periodEnd), created: now.addingTimeInterval(1))
            _ = try await StripeEvents.deliver(deleted, to: site)
            let late = try await StripeEvents.deliver(lateActive, to: site)
            #expect(late.body.contains("stale"), "\(late.status) \(late.body.prefix(300))")
            #expect(try await Subscription.query(on: site.app.db).first()?.status == .canceled)
        }
    }

    @Test("a forged, stale or malformed webhook is refused and changes nothing", arguments: [TestDatabase.sqlite])
    func refusedWebhooks(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let body = try subscriptionCreated(member, periodEnd: Date().addingTimeInterval(86_400 * 30))
            let forged = try await StripeEvents.deliver(body, to: site, signature: StripeEvents.signatureHeader(body, secret: "whsec_attacker"))
            #expect(forged.status == .badRequest)
            let stale = try await StripeEvents.deliver(body, to: site, signature: StripeEvents.signatureHeader(body, at: Date().addingTimeInterval(-301)))
            #expect(stale.status == .badRequest)
            #expect(stale.body.contains("five minutes"))
            let unsigned = try await StripeEvents.deliver(body, to: site, signature: "")
            #expect(unsigned.status == .badRequest)
            var tampered = body
            tampered.append(contentsOf: Array(" ".utf8))
            #expect(try await StripeEvents.deliver(tampered, to: site, signature: StripeEvents.signatureHeader(body)).status == .badRequest)
            let garbage = Data("{\"id\": 3}".utf8)
            #expect(try await StripeEvents.deliver(garbage, to: site).status == .badRequest)

            #expect(try await self.member(site, member).paidUntil == nil)
            #expect(try await Subscription.query(on: site.app.db).count() == 0)
            #expect(try await BillingEventRecord.query(on: site.app.db).count() == 0)
        }
    }

    @Test("several signatures, one valid, are accepted (a secret being rolled)", arguments: [TestDatabase.sqlite])
    func rolledSecret(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let body = try subscriptionCreated(member, periodEnd: Date().addingTimeInterval(86_400 * 30))
            let time = Int64(Date().timeIntervalSince1970)
            let old = StripeSignature.sign(body: body, timestamp: time, secret: "whsec_old")
            let current = StripeSignature.sign(body: body, timestamp: time, secret: LocalStripe.webhookSecret)
            let response = try await StripeEvents.deliver(body, to: site, signature: "t=\(time),v1=\(old),v1=\(current),v0=ignored")
            #expect(response.status == .ok)
            #expect(try await self.member(site, member).viewer(at: Date()) == .paidMember)
        }
    }

    @Test("a replayed event changes nothing the second time", arguments: TestDatabase.available)
    func replay(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let body = try subscriptionCreated(member, periodEnd: Date().addingTimeInterval(86_400 * 30), eventID: "evt_once")
            #expect(try await StripeEvents.deliver(body, to: site).body.contains("applied"))
            let cancelled = StripeEvents.event("customer.subscription.deleted", StripeEvents.subscription(
                id: "sub_1", customer: "cus_1", memberID: member.id, status: "canceled", periodEnd: Date().addingTimeInterval(86_400 * 30), endedAt: Date()
            ), created: Date().addingTimeInterval(5))
            #expect(try await StripeEvents.deliver(cancelled, to: site).body.contains("applied"))
            #expect(try await self.member(site, member).viewer(at: Date().addingTimeInterval(10)) == .freeMember)

            let replayed = try await StripeEvents.deliver(body, to: site)
            #expect(replayed.status == .ok)
            #expect(replayed.body.contains("replayed"))
            #expect(try await self.member(site, member).viewer(at: Date().addingTimeInterval(10)) == .freeMember)
            #expect(try await BillingEventRecord.query(on: site.app.db).count() == 2)
        }
    }

    @Test("an older event arriving after a newer one does not roll the state back", arguments: TestDatabase.available)
    func outOfOrder(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let now = Date()
            let periodEnd = now.addingTimeInterval(86_400 * 30)
            let cancelledLater = StripeEvents.event("customer.subscription.updated", StripeEvents.subscription(
                id: "sub_1", customer: "cus_1", memberID: member.id, status: "active", periodEnd: periodEnd, cancelAtPeriodEnd: true
            ), created: now.addingTimeInterval(60))
            #expect(try await StripeEvents.deliver(cancelledLater, to: site).body.contains("applied"))
            let createdEarlier = try subscriptionCreated(member, periodEnd: periodEnd, created: now)
            #expect(try await StripeEvents.deliver(createdEarlier, to: site).body.contains("stale"))
            let subscription = try #require(try await Subscription.query(on: site.app.db).first())
            #expect(subscription.cancelAtPeriodEnd)
        }
    }

    @Test("a failed card keeps the member reading through the grace period; a refund ends access", arguments: TestDatabase.available)
    func failedPaymentAndRefund(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let now = Date()
            let periodEnd = now.addingTimeInterval(86_400 * 30)
            _ = try await StripeEvents.deliver(try subscriptionCreated(member, periodEnd: periodEnd, created: now), to: site)
            let failed = StripeEvents.event("invoice.payment_failed", ["id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1"], created: now.addingTimeInterval(1))
            #expect(try await StripeEvents.deliver(failed, to: site).body.contains("applied"))
            let pastDue = try await self.member(site, member)
            #expect(try await Subscription.query(on: site.app.db).first()?.status == .pastDue)
            // The grace runs from the start of the unpaid period, not from its end.
            #expect(pastDue.viewer(at: now.addingTimeInterval(6 * 86_400)) == .paidMember)
            #expect(pastDue.viewer(at: now.addingTimeInterval(8 * 86_400)) == .freeMember)

            let paidLater = StripeEvents.event("invoice.paid", [
                "id": "in_2", "object": "invoice", "customer": "cus_1",
                "parent": ["type": "subscription_details", "subscription_details": ["subscription": "sub_1"]],
                "lines": ["data": [["period": ["start": Int(periodEnd.timeIntervalSince1970), "end": Int(periodEnd.timeIntervalSince1970) + 86_400 * 30]]]],
            ], created: now.addingTimeInterval(2))
            #expect(try await StripeEvents.deliver(paidLater, to: site).body.contains("applied"))
            #expect(try await Subscription.query(on: site.app.db).first()?.status == .active)
            #expect(try await self.member(site, member).viewer(at: periodEnd.addingTimeInterval(86_400 * 29)) == .paidMember)

            let refunded = StripeEvents.event("charge.refunded", ["id": "ch_1", "object": "charge", "customer": "cus_1", "refunded": true, "amount": 10_000, "amount_refunded": 10_000], created: now.addingTimeInterval(3))
            let refund = try await StripeEvents.deliver(refunded, to: site)
            #expect(refund.body.contains("applied"), "\(refund.status) \(refund.body.prefix(300))")
            #expect(try await self.member(site, member).viewer(at: Date().addingTimeInterval(1)) == .freeMember)
        }
    }

    @Test("a refunded charge ends the subscription its invoice paid for, not another of the customer's", arguments: [TestDatabase.sqlite])
    func refundByInvoice(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, member in
            let now = Date()
            let yearly = StripeEvents.event("customer.subscription.created", StripeEvents.subscription(id: "sub_yearly", customer: "cus_1", memberID: member.id, status: "active", periodEnd: now.addingTimeInterval(86_400 * 300)), created: now)
            let monthly = StripeEvents.event("customer.subscription.created", StripeEvents.subscription(id: "sub_monthly", customer: "cus_1", memberID: member.id, status: "active", periodEnd: now.addingTimeInterval(86_400 * 20), amount: 1_000, interval: "month"), created: now)
            _ = try await StripeEvents.deliver(yearly, to: site)
            _ = try await StripeEvents.deliver(monthly, to: site)
            // The local Stripe answers that invoice in_monthly was for sub_monthly.
            let refund = StripeEvents.event("charge.refunded", ["id": "ch_1", "object": "charge", "customer": "cus_1", "invoice": "in_monthly", "refunded": true], created: now.addingTimeInterval(1))
            #expect(try await StripeEvents.deliver(refund, to: site).body.contains("applied"))
            let statuses = Dictionary(uniqueKeysWithValues: try await Subscription.query(on: site.app.db).all().map { ($0.providerSubscriptionID, $0.status) })
            #expect(statuses == ["sub_monthly": .refunded, "sub_yearly": .active])
            #expect(try await self.member(site, member).viewer(at: Date()) == .paidMember)
        }
    }

    @Test("an event about an unknown member is acknowledged and changes nothing", arguments: [TestDatabase.sqlite])
    func unknownMember(database: TestDatabase) async throws {
        try await withStripeSite(on: database) { site, _, _, _ in
            let stranger = StripeEvents.event("customer.subscription.created", StripeEvents.subscription(
                id: "sub_x", customer: "cus_x", memberID: UUID(), status: "active", periodEnd: Date().addingTimeInterval(86_400)
            ))
            let response = try await StripeEvents.deliver(stranger, to: site)
            #expect(response.status == .ok)
            #expect(response.body.contains("unknown"))
            #expect(try await Subscription.query(on: site.app.db).count() == 0)
        }
    }

    @Test("without Stripe configured the webhook endpoint does not exist", arguments: [TestDatabase.sqlite])
    func noStripeNoWebhook(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let body = StripeEvents.event("invoice.paid", ["id": "in_1", "object": "invoice"])
            let response = try await StripeEvents.deliver(body, to: site)
            #expect(response.status == .notFound)
        }
    }
}
