import Foundation
import Vapor

/// Payment through Stripe: Checkout Sessions in subscription mode, the Customer Portal, and
/// subscriptions read back from the API. Webhooks come in through `WebhookController`.
struct StripeProvider: PaymentProvider {
    let api: StripeClient

    init(api: StripeClient) {
        self.api = api
    }

    init(_ stripe: BillingSettings.Stripe, app: Application) {
        api = StripeClient(client: { [unowned app] in app.client }, secretKey: stripe.secretKey, apiBase: stripe.apiBase, logger: app.logger)
    }

    var name: String { "stripe" }

    func checkoutURL(for checkout: CheckoutRequest) async throws -> CheckoutSession {
        let form = checkout.isGift ? giftForm(checkout) : subscriptionForm(checkout)
        let session = try await api.post("/v1/checkout/sessions", form: form, idempotencyKey: "checkout-\(checkout.checkoutID.uuidString)")
        guard let id = session["id"] as? String, let url = session["url"] as? String else {
            throw PaymentProviderError(description: "Stripe's checkout session has no id or url")
        }
        return CheckoutSession(id: id, url: url)
    }

    private func subscriptionForm(_ checkout: CheckoutRequest) -> [(String, String)] {
        var form: [(String, String)] = [
            ("mode", "subscription"),
            checkout.customerID.map { ("customer", $0) } ?? ("customer_email", checkout.email),
            ("client_reference_id", checkout.checkoutID.uuidString),
            ("success_url", checkout.successURL),
            ("cancel_url", checkout.cancelURL),
            ("line_items[0][quantity]", "1"),
            ("subscription_data[metadata][\(BillingEvent.memberMetadataKey)]", checkout.memberID.uuidString),
            ("subscription_data[metadata][\(BillingEvent.planMetadataKey)]", checkout.planSlug),
        ]
        if let priceID = checkout.providerPriceID {
            form.append(("line_items[0][price]", priceID))
        } else {
            form += [
                ("line_items[0][price_data][currency]", checkout.price.currency),
                ("line_items[0][price_data][unit_amount]", String(checkout.price.minor)),
                ("line_items[0][price_data][recurring][interval]", checkout.interval.rawValue),
                ("line_items[0][price_data][product_data][name]", checkout.planName),
            ]
        }
        if checkout.trialDays > 0 { form.append(("subscription_data[trial_period_days]", String(checkout.trialDays))) }
        return form
    }

    /// A gift is one payment for one period: a one-off price, whatever recurring price the plan has.
    private func giftForm(_ checkout: CheckoutRequest) -> [(String, String)] {
        [
            ("mode", "payment"),
            ("customer_email", checkout.email),
            ("client_reference_id", checkout.checkoutID.uuidString),
            ("success_url", checkout.successURL),
            ("cancel_url", checkout.cancelURL),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", checkout.price.currency),
            ("line_items[0][price_data][unit_amount]", String(checkout.price.minor)),
            ("line_items[0][price_data][product_data][name]", "\(checkout.planName) (gift)"),
            ("payment_intent_data[metadata][\(BillingEvent.memberMetadataKey)]", checkout.memberID.uuidString),
            ("payment_intent_data[metadata][masthead_gift_checkout]", checkout.checkoutID.uuidString),
        ]
    }

    func billingPortalURL(customerID: String, returnURL: String) async throws -> String {
        let session = try await api.post(
            "/v1/billing_portal/sessions", form: [("customer", customerID), ("return_url", returnURL)],
            idempotencyKey: "portal-\(UUID().uuidString)"
        )
        guard let url = session["url"] as? String else { throw PaymentProviderError(description: "Stripe's portal session has no url") }
        return url
    }

    func subscriptionID(ofInvoice id: String) async throws -> String? {
        guard Self.isStripeID(id) else { return nil }
        let invoice = try await api.get("/v1/invoices/\(id)")
        if let subscription = invoice["subscription"] as? String { return subscription }
        let details = (invoice["parent"] as? [String: Any])?["subscription_details"] as? [String: Any]
        return details?["subscription"] as? String
    }

    /// Ids go into URL paths: letters, digits and underscores only.
    private static func isStripeID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 255 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Every subscription of a customer, ended ones too (one page of 100: far more than a reader
    /// has), and the customer's email address as Stripe has it.
    func subscriptions(ofCustomer id: String) async throws -> (email: String?, subscriptions: [BillingEvent.SubscriptionState]) {
        guard Self.isStripeID(id) else { return (nil, []) }
        let list = try await api.get("/v1/subscriptions?customer=\(id)&status=all&limit=100&expand%5B%5D=data.customer")
        let objects = list["data"] as? [[String: Any]] ?? []
        let email = objects.lazy.compactMap { ($0["customer"] as? [String: Any])?["email"] as? String }.first
        return (email, try objects.map(BillingEvent.subscription))
    }

    func subscription(id: String) async throws -> BillingEvent.SubscriptionState? {
        guard Self.isStripeID(id) else { return nil }
        return try BillingEvent.subscription(try await api.get("/v1/subscriptions/\(id)"))
    }
}
