import Fluent
import Foundation

/// What the outlet earns and how many read it, day by day or month by month, worked out from
/// the database alone: a subscription counts as paying from its start until it ended (or, if
/// cancelled, until the end of what was paid), as the ledger recorded it.
struct RevenueReport: Sendable {
    enum Range: String, CaseIterable, Sendable {
        case days30 = "30d"
        case months12 = "12m"
    }

    struct Point: Sendable, Equatable {
        let start: Date
        let paidMembers: Int
        let freeMembers: Int
        /// Monthly recurring revenue in the report's currency, in minor units.
        let recurringMinor: Int
        let newSubscriptions: Int
        let cancelledSubscriptions: Int
    }

    let currency: String
    let points: [Point]
    /// Monthly recurring revenue now, per currency, in minor units.
    let recurringNow: [String: Int]

    /// What a subscription brings in a month, in its currency's minor units.
    static func monthlyMinor(_ subscription: Subscription) -> Int {
        subscription.interval == .year ? Int((Double(subscription.amountMinor) / 12).rounded()) : subscription.amountMinor
    }

    /// Until when a subscription gave access, as far as the ledger knows; nil while it still does.
    /// (A trial gives access but brings no revenue: the revenue sums leave it out.)
    static func payingUntil(_ subscription: Subscription) -> Date? {
        switch subscription.status {
        case .active, .pastDue, .trialing: subscription.endedAt
        case .incomplete, .incompleteExpired, .unpaid, .paused: subscription.createdAt
        case .canceled, .refunded: subscription.endedAt ?? subscription.currentPeriodEnd
        }
    }

    static func isPaying(_ subscription: Subscription, at moment: Date) -> Bool {
        subscription.createdAt <= moment && payingUntil(subscription).map { moment < $0 } ?? true
    }

    /// Whether the subscription let its member read at that moment, by the same rule as
    /// `Entitlement` (a refunded one did until its refund).
    static func gaveAccess(_ subscription: Subscription, at moment: Date, graceDays: Int) -> Bool {
        let until = subscription.status == .refunded ? subscription.endedAt : Entitlement.paidUntil(subscription, graceDays: graceDays)
        return subscription.createdAt <= moment && until.map { moment < $0 } ?? false
    }

    /// The report over `range` ending at `now`: one point per day or per month, each measured
    /// at the end of its period (or now, for the current one).
    static func make(
        range: Range, now: Date, currency: String, timeZone: TimeZone, graceDays: Int,
        subscriptions: [Subscription], grants: [ComplimentaryAccess], members: [Member]
    ) -> RevenueReport {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let unit: Calendar.Component = range == .days30 ? .day : .month
        let count = range == .days30 ? 30 : 12
        let currentStart = calendar.dateInterval(of: unit, for: now)?.start ?? now
        let points = (0..<count).reversed().compactMap { back -> Point? in
            guard let start = calendar.date(byAdding: unit, value: -back, to: currentStart),
                  let next = calendar.date(byAdding: unit, value: 1, to: start) else { return nil }
            let moment = min(next.addingTimeInterval(-1), now)
            let paying = subscriptions.filter { isPaying($0, at: moment) }
            var paidMembers = Set(subscriptions.filter { gaveAccess($0, at: moment, graceDays: graceDays) }.map(\.$member.id))
            for grant in grants where grant.createdAt <= moment && moment < grant.until {
                if let member = grant.$member.id { paidMembers.insert(member) }
            }
            for grant in grants where grant.createdAt <= moment && moment < grant.until {
                guard let domain = grant.emailDomain else { continue }
                for member in members where ComplimentaryAccess.domain(domain, covers: member.email) { member.id.map { paidMembers.insert($0) } }
            }
            let joined = members.filter { ($0.createdAt ?? .distantPast) <= moment }.count
            return Point(
                start: start,
                paidMembers: paidMembers.count,
                freeMembers: max(0, joined - paidMembers.count),
                recurringMinor: paying.filter { $0.currency == currency && $0.status != .trialing }.map(monthlyMinor).reduce(0, +),
                newSubscriptions: subscriptions.filter { $0.createdAt >= start && $0.createdAt < next }.count,
                cancelledSubscriptions: subscriptions.filter { sub in
                    guard [.canceled, .refunded].contains(sub.status), let end = payingUntil(sub) else { return false }
                    return end >= start && end < next
                }.count
            )
        }
        var recurringNow: [String: Int] = [:]
        for subscription in subscriptions where isPaying(subscription, at: now) && subscription.status != .trialing {
            recurringNow[subscription.currency, default: 0] += monthlyMinor(subscription)
        }
        return RevenueReport(currency: currency, points: points, recurringNow: recurringNow)
    }

    /// Reads what the report needs and makes it; subscriptions count as the site's rules say.
    static func load(range: Range, now: Date, currency: String, timeZone: TimeZone, rules: EntitlementRules, on database: any Database) async throws -> RevenueReport {
        let subscriptions = try await Subscription.query(on: database).all().filter { rules.countedProviders.contains($0.provider) }
        let grants = try await ComplimentaryAccess.query(on: database).all()
        let members = try await Member.query(on: database).all()
        return make(range: range, now: now, currency: currency, timeZone: timeZone, graceDays: rules.graceDays, subscriptions: subscriptions, grants: grants, members: members)
    }
}
