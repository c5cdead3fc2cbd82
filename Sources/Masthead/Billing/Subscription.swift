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

/// Whether a member may read paid articles, and until when: the one function that decides it
/// from their subscriptions. The answer is kept on the member (`paid_until`) so that a signed-in
/// reader's access is known from their session alone, and `AccessPolicy` reads it from there.
enum Entitlement {
    static func paidUntil(_ subscriptions: [Subscription], graceDays: Int) -> Date? {
        subscriptions.compactMap { paidUntil($0, graceDays: graceDays) }.max()
    }

    static func paidUntil(_ subscription: Subscription, graceDays: Int) -> Date? {
        let periodEnd = subscription.currentPeriodEnd
        switch subscription.status {
        case .active, .trialing:
            return periodEnd
        case .pastDue:
            // The card failed and the provider is retrying: the reader keeps reading a while.
            return periodEnd.addingTimeInterval(TimeInterval(graceDays) * 86_400)
        case .canceled:
            // Paid for to the end of the period, unless it was ended sooner.
            return min(periodEnd, subscription.endedAt ?? periodEnd)
        case .incomplete, .incompleteExpired, .unpaid, .paused, .refunded:
            return nil
        }
    }
}
