import Fluent
import Foundation
import Testing
@testable import Masthead

/// A member buys a year for someone else's address; the recipient redeems it from the email.
@Suite("Gift subscriptions", .serialized)
struct GiftTests {
    static let publicURL = TestModeJourneyTests.publicURL

    /// The path of the redeem link in the newest gift email to an address.
    static func redeemPath(_ site: TestSite, to email: String) async throws -> String {
        let mail = try #require(try await OutboxMessage.query(on: site.app.db).filter(\.$purpose == "billing.gift_received")
            .filter(\.$toEmail == email).sort(\.$createdAt, .descending).first())
        let link = try #require(mail.textBody.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix(publicURL + "/gift/") })
        return String(link.dropFirst(publicURL.count))
    }

    /// Fills in the gift form as a signed-in member and returns the response to posting it.
    static func giveGift(_ browser: TestBrowser, to email: String, message: String = "") async throws -> TestSite.Page {
        let form = try await browser.get("/join/gift")
        return try await browser.submit(form, action: "/join/gift", ["email": email, "name": "", "message": message])
    }

    @Test("a member gives a year in test mode; the recipient accepts it from the email and reads in full", arguments: TestDatabase.available)
    func giveAndRedeem(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let giver = try await TestModeJourneyTests.signedInReader(site, email: "aunt@example.com")
            #expect(try await giver.get("/join").body.contains("Give Masthead Test as a gift"))
            let toCheckout = try await Self.giveGift(giver, to: "Nephew@Example.com", message: "Read up before your exams.")
            let checkoutURL = try #require(toCheckout.headers.first(name: .location))
            let checkoutPath = String(checkoutURL.dropFirst(Self.publicURL.count))
            let checkoutPage = try await giver.get(checkoutPath)
            #expect(checkoutPage.body.contains("nephew@example.com"))
            #expect(checkoutPage.body.contains("$100"))
            let paid = try await giver.submit(checkoutPage, action: checkoutPath, ["outcome": "pay"])
            let done = try await giver.get(try #require(paid.headers.first(name: .location)))
            #expect(done.body.contains("Your gift is on its way"))

            let receipt = try #require(try await OutboxMessage.query(on: site.app.db).filter(\.$purpose == "billing.gift_sent").first())
            #expect(receipt.toEmail == "aunt@example.com" && receipt.textBody.contains("$100"))
            let giverMember = try #require(try await MemberAccounts(database: site.app.db).find(email: "aunt@example.com"))
            #expect(giverMember.paidUntil == nil)

            let recipient = TestBrowser(site: site)
            let offer = try await recipient.get(try await Self.redeemPath(site, to: "nephew@example.com"))
            #expect(offer.status == .ok)
            #expect(offer.body.contains("A gift from aunt@example.com"))
            #expect(offer.body.contains("Read up before your exams."))
            let redeemPath = try await Self.redeemPath(site, to: "nephew@example.com")
            let accepted = try await recipient.submit(offer, action: redeemPath)
            #expect(accepted.status == .ok)
            #expect(accepted.body.contains("Your gift is ready"))
            // The link gives the gift, not the account: reading takes signing in as anyone does.
            #expect(accepted.headers.setCookie?[MemberSessions.cookieName] == nil)
            #expect(accepted.body.contains("sign in with nephew@example.com"))

            let reader = try await TestModeJourneyTests.signedInReader(site, email: "nephew@example.com")
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let full = try await reader.get("/articles/\(article.slug)")
            #expect(!full.body.contains("class=\"paywall\""))
            for sentence in DemoArticles.gatedSentences(of: article) { #expect(HTML.text(of: full.body).contains(sentence)) }
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "nephew@example.com"))
            let until = try #require(member.paidUntil)
            #expect(until > Date().addingTimeInterval(364 * 86_400) && until < Date().addingTimeInterval(367 * 86_400))

            let again = try await TestBrowser(site: site).get(redeemPath)
            #expect(again.status == .gone)
            #expect(again.body.contains("already been accepted"))
        }
    }

    @Test("the gift form refuses an address that is not one, and nothing is bought", arguments: [TestDatabase.sqlite])
    func badAddress(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let giver = try await TestModeJourneyTests.signedInReader(site, email: "giver@example.com")
            let refused = try await Self.giveGift(giver, to: "not an address")
            #expect(refused.status == .badRequest)
            #expect(refused.body.contains("Please give the recipient&#39;s email address") || refused.body.contains("Please give the recipient's email address"))
            #expect(try await Gift.query(on: site.app.db).count() == 0)
        }
    }

    @Test("a reader not signed in is asked for their own address first", arguments: [TestDatabase.sqlite])
    func signInFirst(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let page = try await site.get("/join/gift")
            #expect(page.status == .ok)
            #expect(page.body.contains("action=\"/join\""))
            #expect(page.body.contains("name=\"return\" value=\"/join/gift?plan=yearly&amp;currency=usd\""))
        }
    }

    @Test("with Stripe, a gift is a one-off payment; a refund makes its link worthless and ends access given by it", arguments: TestDatabase.available)
    func stripeGiftAndRefund(database: TestDatabase) async throws {
        let stripe = try await LocalStripe.start()
        defer { Task { await stripe.stop() } }
        try await withSite(on: database, configure: {
            $0.billing = BillingSettings(stripe: .init(secretKey: LocalStripe.secretKey, webhookSecret: LocalStripe.webhookSecret, apiBase: stripe.baseURL))
        }) { site in
            let giver = try await TestModeJourneyTests.signedInReader(site, email: "friend@example.com")
            let toStripe = try await Self.giveGift(giver, to: "colleague@example.com")
            #expect(toStripe.headers.first(name: .location)?.hasPrefix("https://checkout.stripe.test/") == true)
            let request = try #require(stripe.requests.last { $0.path == "/v1/checkout/sessions" })
            #expect(request.form["mode"] == "payment")
            #expect(request.form["line_items[0][price_data][unit_amount]"] == "10000")
            #expect(request.form["customer_email"] == "friend@example.com")
            #expect(!request.form.keys.contains { $0.hasPrefix("subscription_data") })

            let checkout = try #require(try await Checkout.query(on: site.app.db).sort(\.$createdAt, .descending).first())
            let session: [String: Any] = [
                "id": checkout.providerSessionID ?? "", "object": "checkout.session", "mode": "payment",
                "client_reference_id": try checkout.requireID().uuidString, "customer": NSNull(), "subscription": NSNull(),
                "payment_intent": "pi_gift_1", "status": "complete",
            ]
            var unpaid = session
            unpaid["payment_status"] = "unpaid"
            #expect(try await StripeEvents.deliver(StripeEvents.event("checkout.session.completed", unpaid), to: site).status == .ok)
            #expect(try await OutboxMessage.query(on: site.app.db).filter(\.$purpose == "billing.gift_received").count() == 0)

            var paid = session
            paid["payment_status"] = "paid"
            #expect(try await StripeEvents.deliver(StripeEvents.event("checkout.session.completed", paid), to: site).status == .ok)
            let redeemPath = try await Self.redeemPath(site, to: "colleague@example.com")
            let recipient = TestBrowser(site: site)
            _ = try await recipient.submit(try await recipient.get(redeemPath), action: redeemPath)
            let member = try #require(try await MemberAccounts(database: site.app.db).find(email: "colleague@example.com"))
            #expect(member.viewer(at: Date()) == .paidMember)

            let refund = StripeEvents.event("charge.refunded", [
                "id": "ch_gift_1", "object": "charge", "customer": NSNull(), "invoice": NSNull(),
                "payment_intent": "pi_gift_1", "refunded": true, "amount": 10_000, "amount_refunded": 10_000,
            ])
            #expect(try await StripeEvents.deliver(refund, to: site).status == .ok)
            let refunded = try #require(try await MemberAccounts(database: site.app.db).find(email: "colleague@example.com"))
            #expect(refunded.viewer(at: Date().addingTimeInterval(1)) == .freeMember)
            #expect(try await Gift.query(on: site.app.db).first()?.status == .refunded)
            #expect(try await recipient.get(redeemPath).status == .notFound)
        }
    }

    @Test("a refund that arrives before its payment's completion stops the gift from being sent", arguments: [TestDatabase.sqlite])
    func refundFirst(database: TestDatabase) async throws {
        let stripe = try await LocalStripe.start()
        defer { Task { await stripe.stop() } }
        try await withSite(on: database, configure: {
            $0.billing = BillingSettings(stripe: .init(secretKey: LocalStripe.secretKey, webhookSecret: LocalStripe.webhookSecret, apiBase: stripe.baseURL))
        }) { site in
            let giver = try await TestModeJourneyTests.signedInReader(site, email: "hasty@example.com")
            _ = try await Self.giveGift(giver, to: "someone@example.com")
            let checkout = try #require(try await Checkout.query(on: site.app.db).sort(\.$createdAt, .descending).first())
            let refund = StripeEvents.event("charge.refunded", [
                "id": "ch_early", "object": "charge", "customer": "cus_other", "invoice": NSNull(), "payment_intent": "pi_early", "refunded": true,
            ])
            #expect(try await StripeEvents.deliver(refund, to: site).status == .ok)
            let completed = StripeEvents.event("checkout.session.completed", [
                "id": checkout.providerSessionID ?? "", "object": "checkout.session", "mode": "payment", "client_reference_id": try checkout.requireID().uuidString,
                "payment_intent": "pi_early", "payment_status": "paid", "status": "complete",
            ])
            #expect(try await StripeEvents.deliver(completed, to: site).status == .ok)
            #expect(try await Gift.query(on: site.app.db).first()?.status == .refunded)
            #expect(try await OutboxMessage.query(on: site.app.db).filter(\.$purpose == "billing.gift_received").count() == 0)
        }
    }

    @Test("a refunded gift drops out of the chain: the gifts after it no longer wait for it")
    func refundInChain() {
        let redeemed = Date(timeIntervalSince1970: 1_800_000_000)
        func gift(_ offset: TimeInterval, _ status: Gift.Status) -> Gift {
            let gift = Gift()
            gift.status = status
            gift.interval = .year
            gift.redeemedAt = redeemed.addingTimeInterval(offset)
            return gift
        }
        let first = Gift.accessUntil(chaining: [gift(0, .redeemed)])!
        let both = Gift.accessUntil(chaining: [gift(0, .redeemed), gift(60, .redeemed)])!
        #expect(both > first.addingTimeInterval(364 * 86_400))
        let afterRefund = Gift.accessUntil(chaining: [gift(0, .refunded), gift(60, .redeemed)])!
        #expect(afterRefund == TestModeEvents.period(after: redeemed.addingTimeInterval(60), .year))
    }

    @Test("a second gift to the same reader starts when the first ends", arguments: [TestDatabase.sqlite])
    func giftsStack(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let giver = try await TestModeJourneyTests.signedInReader(site, email: "generous@example.com")
            let recipient = TestBrowser(site: site)
            var ends: [Date] = []
            for _ in 0..<2 {
                let checkoutURL = try #require(try await Self.giveGift(giver, to: "lucky@example.com").headers.first(name: .location))
                let checkoutPath = String(checkoutURL.dropFirst(Self.publicURL.count))
                _ = try await giver.submit(try await giver.get(checkoutPath), action: checkoutPath, ["outcome": "pay"])
                let redeemPath = try await Self.redeemPath(site, to: "lucky@example.com")
                _ = try await recipient.submit(try await recipient.get(redeemPath), action: redeemPath)
                #expect(try await MemberAccounts(database: site.app.db).find(email: "lucky@example.com")?.viewer(at: Date()) == .paidMember)
                ends.append(try #require(try await MemberAccounts(database: site.app.db).find(email: "lucky@example.com")?.paidUntil))
            }
            #expect(ends[1] > ends[0].addingTimeInterval(364 * 86_400))
        }
    }
}
