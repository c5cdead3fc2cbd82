import Foundation

/// Who takes the money: Stripe, or Masthead's own test mode when no Stripe key is set. Both
/// report what happened as the same `BillingEvent`s, applied by the same `BillingLedger`.
protocol PaymentProvider: Sendable {
    /// The name stored with subscriptions and events: "stripe" or "test".
    var name: String { get }

    /// Where to send the reader to pay.
    func checkoutURL(for checkout: CheckoutRequest) async throws -> CheckoutSession

    /// Where a paying member manages their card, invoices and cancellation.
    func billingPortalURL(customerID: String, returnURL: String) async throws -> String

    /// The subscription as the provider knows it now, when an event did not carry it.
    func subscription(id: String) async throws -> BillingEvent.SubscriptionState?

    /// The subscription an invoice was for, so a refunded charge ends the right subscription.
    func subscriptionID(ofInvoice id: String) async throws -> String?
}

struct CheckoutRequest: Sendable {
    let checkoutID: UUID
    let memberID: UUID
    let email: String
    /// The provider's customer for this member, when they have paid before.
    let customerID: String?
    let planSlug: String
    let planName: String
    let price: Money
    let interval: Plan.Interval
    let providerPriceID: String?
    let trialDays: Int
    /// One period paid once, for someone else (a gift), rather than a subscription.
    let isGift: Bool
    let successURL: String
    let cancelURL: String
}

struct CheckoutSession: Sendable {
    let id: String
    let url: String
}

/// What went wrong talking to the provider, in words fit for the log and a 502 page.
struct PaymentProviderError: Error, CustomStringConvertible {
    let description: String
}
