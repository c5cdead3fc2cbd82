import Fluent
import Foundation

/// A member's subscription as the payment provider last told us, one row per provider
/// subscription. Only `BillingLedger` writes it, and every write recomputes the member's
/// entitlement in the same transaction.
final class Subscription: Model, @unchecked Sendable {
    static let schema = "subscriptions"

    /// Stripe's subscription statuses, plus `refunded` for one whose payment was given back.
    enum Status: String, Codable, Sendable, CaseIterable {
        case incomplete
        case incompleteExpired = "incomplete_expired"
        case trialing
        case active
        case pastDue = "past_due"
        case canceled
        case unpaid
        case paused
        case refunded
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "member_id") var member: Member
    @OptionalParent(key: "plan_id") var plan: Plan?
    @Field(key: "provider") var provider: String
    @Field(key: "provider_subscription_id") var providerSubscriptionID: String
    @Field(key: "provider_customer_id") var providerCustomerID: String
    @Enum(key: "status") var status: Status
    @Field(key: "current_period_end") var currentPeriodEnd: Date
    /// When the current period began: a past-due reader's grace counts from it.
    @OptionalField(key: "current_period_start") var currentPeriodStart: Date?
    @Field(key: "cancel_at_period_end") var cancelAtPeriodEnd: Bool
    /// When the subscription ended for good, if it was ended before its period ran out.
    @OptionalField(key: "ended_at") var endedAt: Date?
    @Field(key: "amount_minor") var amountMinor: Int
    @Field(key: "currency") var currency: String
    @Enum(key: "interval") var interval: Plan.Interval
    /// The provider's timestamp of the newest event applied, so an older one arriving late
    /// cannot roll the state back.
    @Field(key: "state_version") var stateVersion: Int64
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}

/// What counts towards access, as the site is configured: how long a failed card keeps
/// reading, and whose subscriptions count. Stripe's always do; test mode's only while the site
/// is in test mode, so a "payment" made while an outlet was setting up gives nothing once it
/// takes real ones.
struct EntitlementRules: Sendable {
    let graceDays: Int
    let countedProviders: Set<String>
}

extension EntitlementRules {
    init(_ settings: BillingSettings) {
        let testModeOnly = settings.stripe == nil && settings.testMode
        self.init(graceDays: settings.graceDays, countedProviders: testModeOnly ? ["stripe", "test"] : ["stripe"])
    }
}

/// Whether a member may read paid articles, and until when: the one function that decides it,
/// from their subscriptions and the complimentary access staff gave them. The answer is kept on
/// the member (`paid_until`, by `Entitlements`) so that a signed-in reader's access is known
/// from their session alone, and `AccessPolicy` reads it from there.
enum Entitlement {
    /// `givenUntil`: the ends of access given rather than subscribed to (complimentary, gifts).
    static func paidUntil(_ subscriptions: [Subscription], givenUntil: [Date] = [], rules: EntitlementRules) -> Date? {
        let counted = subscriptions.filter { rules.countedProviders.contains($0.provider) }
        return (counted.compactMap { paidUntil($0, graceDays: rules.graceDays) } + givenUntil).max()
    }

    static func paidUntil(_ subscription: Subscription, graceDays: Int) -> Date? {
        let periodEnd = subscription.currentPeriodEnd
        switch subscription.status {
        case .active, .trialing:
            return periodEnd
        case .pastDue:
            // The renewal failed and the provider is retrying. The period already moved on to
            // the one not paid for: the reader keeps reading for the grace days from its start.
            let start = subscription.currentPeriodStart ?? periodEnd
            return min(periodEnd, start.addingTimeInterval(TimeInterval(graceDays) * 86_400))
        case .canceled:
            // Paid for to the end of the period, unless it was ended sooner.
            return min(periodEnd, subscription.endedAt ?? periodEnd)
        case .incomplete, .incompleteExpired, .unpaid, .paused, .refunded:
            return nil
        }
    }
}

extension Subscription.Status {
    /// How far along its life a subscription is, for two events of the same second: the later
    /// state wins, so a late `created` (incomplete) never undoes the `updated` (active) that
    /// followed it, nor an `updated` a deletion.
    var stage: Int {
        switch self {
        case .incomplete: 0
        case .trialing: 1
        case .active: 2
        case .pastDue: 3
        case .unpaid, .paused: 4
        case .canceled, .incompleteExpired: 5
        case .refunded: 6
        }
    }

    /// A subscription in these states never lives again; a new payment is a new subscription.
    var isFinal: Bool { self == .canceled || self == .incompleteExpired }
}

extension Subscription {
    /// Takes on what the provider says the subscription is now.
    func fill(from state: BillingEvent.SubscriptionState, status: Subscription.Status) {
        providerCustomerID = state.customerID
        self.status = status
        currentPeriodStart = state.currentPeriodStart
        currentPeriodEnd = state.currentPeriodEnd
        cancelAtPeriodEnd = state.cancelAtPeriodEnd
        endedAt = state.endedAt ?? (status == .refunded ? endedAt : nil)
        amountMinor = state.amountMinor
        currency = state.currency
        interval = state.interval
    }
}
