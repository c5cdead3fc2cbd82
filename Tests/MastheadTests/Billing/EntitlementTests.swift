import Foundation
import Testing
@testable import Masthead

@Suite("What a subscription entitles its member to")
struct EntitlementTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)
    private let stripeOnly = EntitlementRules(graceDays: 7, countedProviders: ["stripe"])

    private func subscription(_ status: Subscription.Status, provider: String = "stripe", start: TimeInterval = -86_400, end: TimeInterval = 86_400 * 29, endedAt: Date? = nil) -> Subscription {
        let subscription = Subscription()
        subscription.provider = provider
        subscription.status = status
        subscription.currentPeriodStart = now.addingTimeInterval(start)
        subscription.currentPeriodEnd = now.addingTimeInterval(end)
        subscription.endedAt = endedAt
        return subscription
    }

    @Test("active and trialing read to the end of the period; unpaid, incomplete and refunded not at all")
    func statuses() {
        #expect(Entitlement.paidUntil([subscription(.active)], rules: stripeOnly) == now.addingTimeInterval(86_400 * 29))
        #expect(Entitlement.paidUntil([subscription(.trialing)], rules: stripeOnly) == now.addingTimeInterval(86_400 * 29))
        for status in [Subscription.Status.unpaid, .incomplete, .incompleteExpired, .refunded, .paused] {
            #expect(Entitlement.paidUntil([subscription(status)], rules: stripeOnly) == nil, "\(status)")
        }
    }

    @Test("a failed renewal reads for the grace days from the start of the unpaid period")
    func grace() {
        #expect(Entitlement.paidUntil([subscription(.pastDue)], rules: stripeOnly) == now.addingTimeInterval(86_400 * 6))
    }

    @Test("a cancelled subscription reads to the end of what was paid, or to when it was ended")
    func cancelled() {
        #expect(Entitlement.paidUntil([subscription(.canceled)], rules: stripeOnly) == now.addingTimeInterval(86_400 * 29))
        #expect(Entitlement.paidUntil([subscription(.canceled, endedAt: now)], rules: stripeOnly) == now)
    }

    @Test("test-mode payments count only while the site is in test mode")
    func testModeDoesNotCountOnALiveSite() {
        let testPayment = subscription(.active, provider: "test")
        #expect(Entitlement.paidUntil([testPayment], rules: stripeOnly) == nil)
        #expect(Entitlement.paidUntil([testPayment], rules: EntitlementRules(graceDays: 7, countedProviders: ["stripe", "test"])) != nil)
    }

    @Test("complimentary access and subscriptions: the later end wins")
    func complimentary() {
        let later = now.addingTimeInterval(86_400 * 365)
        #expect(Entitlement.paidUntil([subscription(.active)], givenUntil: [later], rules: stripeOnly) == later)
        #expect(Entitlement.paidUntil([], givenUntil: [later], rules: stripeOnly) == later)
    }

    @Test("a domain grant covers the domain and its subdomains, nothing that merely ends alike")
    func domains() {
        #expect(ComplimentaryAccess.domain("cam.ac.uk", covers: "reader@cam.ac.uk"))
        #expect(ComplimentaryAccess.domain("cam.ac.uk", covers: "reader@chem.cam.ac.uk"))
        #expect(!ComplimentaryAccess.domain("cam.ac.uk", covers: "reader@notcam.ac.uk"))
        #expect(!ComplimentaryAccess.domain("cam.ac.uk", covers: "cam.ac.uk@gmail.com"))
        #expect(ComplimentaryAccess.normalizedDomain(" @Example.AC.uk ") == "example.ac.uk")
        #expect(ComplimentaryAccess.normalizedDomain("localhost") == nil)
        #expect(ComplimentaryAccess.normalizedDomain("exa mple.com") == nil)
    }

    @Test("amounts are shown in the currency's own minor unit, the Gulf's three-decimal dinars too")
    func money() {
        let english = Locale(identifier: "en_GB")
        #expect(Money(minor: 10_000, currency: "usd").formatted(locale: english) == "$100")
        #expect(Money(minor: 950, currency: "eur").formatted(locale: english) == "€9.50")
        #expect(Money(minor: 35_000, currency: "kwd").formatted(locale: english).contains("35"))
        #expect(!Money(minor: 35_000, currency: "kwd").formatted(locale: english).contains("350"))
        #expect(Money(minor: 5_000, currency: "jpy").formatted(locale: english).contains("5,000"))
    }

    @Test("right to left, a Latin currency symbol stays whole: \"US$\" is not drawn as \"$US\"")
    func moneyRightToLeft() {
        let arabic = Money(minor: 10_000, currency: "usd").formatted(locale: Locale(identifier: "ar"))
        #expect(arabic.contains("100") && arabic.hasSuffix("US$\u{200E}"))
        #expect(!Money(minor: 10_000, currency: "usd").formatted(locale: Locale(identifier: "en_GB")).contains("\u{200E}"))
    }
}
