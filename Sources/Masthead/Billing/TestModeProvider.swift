import Foundation

/// Payment with no payment provider, for the demo and for outlets setting up: the reader is
/// sent to Masthead's own checkout page, which says plainly that no money moves. What the
/// reader does there becomes Stripe-shaped events (`TestModeEvents`) read and applied by the
/// same code as Stripe's webhooks.
struct TestModeProvider: PaymentProvider {
    let publicURL: String

    var name: String { "test" }

    func checkoutURL(for checkout: CheckoutRequest) async throws -> CheckoutSession {
        CheckoutSession(id: "cs_test_\(checkout.checkoutID.uuidString)", url: publicURL + BillingURL.testCheckout(checkout.checkoutID))
    }

    func billingPortalURL(customerID: String, returnURL: String) async throws -> String {
        publicURL + BillingURL.testPortal
    }

    /// Test-mode events always carry the whole subscription.
    func subscription(id: String) async throws -> BillingEvent.SubscriptionState? {
        nil
    }

    /// Test mode has no invoices to refund.
    func subscriptionID(ofInvoice id: String) async throws -> String? {
        nil
    }
}

/// The events Stripe would send for what a reader did on the test-mode pages, as JSON bodies.
enum TestModeEvents {
    static func customerID(memberID: UUID) -> String {
        "cus_test_" + memberID.uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// A paid checkout: the subscription starts, the checkout completes, the first invoice is paid.
    static func paid(checkout: Checkout, price: PlanPrice, plan: Plan, now: Date) throws -> [Data] {
        let memberID = checkout.$member.id
        let subscriptionID = "sub_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let trialing = plan.trialDays > 0
        let periodEnd = trialing ? now.addingTimeInterval(TimeInterval(plan.trialDays) * 86_400) : period(after: now, plan.interval)
        var subscription = subscriptionObject(
            id: subscriptionID, memberID: memberID, status: trialing ? "trialing" : "active",
            periodEnd: periodEnd, cancelAtPeriodEnd: false, price: price, interval: plan.interval
        )
        subscription["current_period_start"] = Int(now.timeIntervalSince1970)
        subscription["metadata"] = [BillingEvent.memberMetadataKey: memberID.uuidString, BillingEvent.planMetadataKey: plan.slug]
        return try [
            event("customer.subscription.created", subscription, now: now),
            event("checkout.session.completed", [
                "id": "cs_test_\(checkout.id?.uuidString ?? "")", "object": "checkout.session", "mode": "subscription",
                "client_reference_id": checkout.id?.uuidString ?? "", "customer": customerID(memberID: memberID),
                "subscription": subscriptionID, "payment_status": trialing ? "no_payment_required" : "paid", "status": "complete",
            ], now: now),
            event("invoice.paid", [
                "id": "in_test_\(UUID().uuidString.prefix(8))", "object": "invoice", "customer": customerID(memberID: memberID),
                "subscription": subscriptionID, "amount_paid": trialing ? 0 : price.amountMinor, "currency": price.currency,
                "lines": ["data": [["period": ["start": Int(now.timeIntervalSince1970), "end": Int(periodEnd.timeIntervalSince1970)]]]],
            ], now: now),
        ]
    }

    /// A paid gift: the one-off checkout completes with its payment.
    static func giftPaid(checkout: Checkout, now: Date) throws -> Data {
        try event("checkout.session.completed", [
            "id": "cs_test_\(checkout.id?.uuidString ?? "")", "object": "checkout.session", "mode": "payment",
            "client_reference_id": checkout.id?.uuidString ?? "", "customer": NSNull(),
            "payment_intent": "pi_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
            "payment_status": "paid", "status": "complete",
        ], now: now)
    }

    /// The reader cancelled, or took back the cancellation, in the test-mode billing portal.
    static func cancellation(of subscription: Subscription, cancel: Bool, now: Date) throws -> Data {
        try event("customer.subscription.updated", subscriptionObject(
            id: subscription.providerSubscriptionID, memberID: subscription.$member.id, status: subscription.status.rawValue,
            periodEnd: subscription.currentPeriodEnd, cancelAtPeriodEnd: cancel,
            amountMinor: subscription.amountMinor, currency: subscription.currency, interval: subscription.interval
        ), now: now)
    }

    private static func subscriptionObject(id: String, memberID: UUID, status: String, periodEnd: Date, cancelAtPeriodEnd: Bool, price: PlanPrice, interval: Plan.Interval) -> [String: Any] {
        subscriptionObject(id: id, memberID: memberID, status: status, periodEnd: periodEnd, cancelAtPeriodEnd: cancelAtPeriodEnd, amountMinor: price.amountMinor, currency: price.currency, interval: interval)
    }

    private static func subscriptionObject(id: String, memberID: UUID, status: String, periodEnd: Date, cancelAtPeriodEnd: Bool, amountMinor: Int, currency: String, interval: Plan.Interval) -> [String: Any] {
        [
            "id": id, "object": "subscription", "customer": customerID(memberID: memberID), "status": status,
            "current_period_end": Int(periodEnd.timeIntervalSince1970), "cancel_at_period_end": cancelAtPeriodEnd,
            "metadata": [BillingEvent.memberMetadataKey: memberID.uuidString],
            "items": ["data": [["price": ["unit_amount": amountMinor, "currency": currency, "recurring": ["interval": interval.rawValue]]]]],
        ]
    }

    private static func event(_ type: String, _ object: [String: Any], now: Date) throws -> Data {
        try JSONSerialization.data(withJSONObject: [
            "id": "evt_test_\(UUID().uuidString)", "object": "event", "type": type,
            "created": Int(now.timeIntervalSince1970), "livemode": false, "data": ["object": object],
        ])
    }

    static func period(after start: Date, _ interval: Plan.Interval) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar.date(byAdding: interval == .year ? .year : .month, value: 1, to: start) ?? start
    }
}
