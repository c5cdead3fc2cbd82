import Fluent
import Foundation

/// A member's membership in words for their account page: plan, status, the date that matters
/// (renewal or end), and whether they can manage billing with the provider.
struct MembershipSummary {
    let plan: String
    let status: String?
    let dateLabel: String?
    let date: String?
    let isPaying: Bool
    let canManageBilling: Bool
}

extension Billing {
    func summary(of member: Member, edition: Edition, settings: Settings, on database: any Database, now: Date) async throws -> MembershipSummary {
        let isPaying = member.viewer(at: now) == .paidMember
        let dates = EditionDates(edition: edition)
        let paidText = edition.text("plan_paid", ["price": settings.membershipPrice])
        guard let subscription = try await currentSubscription(of: try member.requireID(), on: database) else {
            return MembershipSummary(
                plan: isPaying ? paidText : edition.text("plan_free"), status: nil,
                dateLabel: isPaying ? edition.text("account_renewal") : nil, date: isPaying ? member.paidUntil.map(dates.day) : nil,
                isPaying: isPaying, canManageBilling: false
            )
        }
        let ending = subscription.cancelAtPeriodEnd || subscription.status == .canceled
        let statusKey = subscription.cancelAtPeriodEnd && [.active, .trialing].contains(subscription.status) ? "cancelling" : subscription.status.rawValue
        let accessUntil = Entitlement.paidUntil([subscription], rules: rules).flatMap { $0 > now ? $0 : nil }
        return MembershipSummary(
            plan: subscription.plan?.name(in: edition) ?? paidText,
            status: edition.strings["subscription_\(statusKey)"],
            dateLabel: accessUntil == nil ? nil : edition.text(ending ? "account_ends" : "account_renewal"),
            date: accessUntil.map { _ in dates.day(ending ? min(subscription.currentPeriodEnd, subscription.endedAt ?? .distantFuture) : subscription.currentPeriodEnd) },
            isPaying: isPaying,
            canManageBilling: subscription.provider == provider?.name
        )
    }
}
