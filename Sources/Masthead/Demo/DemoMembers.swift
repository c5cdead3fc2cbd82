import Fluent
import Foundation
import SQLKit

/// Readers for the demo outlet, so its revenue dashboard has something to show: eighty members
/// who joined over the last two and a half months, a third of them paying (test-mode
/// subscriptions, yearly and monthly, in dollars and euros), some cancelled, one refunded,
/// two whose card failed. Loaded by `masthead demo` only, never by the test suite's sites.
public enum DemoMembers {
    @discardableResult
    public static func loadIfNone(on database: any Database, now: Date = Date()) async throws -> Int {
        guard try await Member.query(on: database).count() == 0 else { return 0 }
        let plans = try await Plan.query(on: database).with(\.$prices).all()
        guard let yearly = plans.first(where: { $0.interval == .year }), let monthly = plans.first(where: { $0.interval == .month }) else { return 0 }
        try await database.writeTransaction { db in
            var random = SeededNumbers(seed: 2026)
            for index in 1...80 {
                let joined = now.addingTimeInterval(-Double(random.next(upTo: 75 * 24)) * 3_600)
                let member = Member(email: String(format: "reader%02d@demo.masthead.test", index), name: "")
                try await member.create(on: db)
                try await (db as! any SQLDatabase).update("members").set("created_at", to: joined).where("id", .equal, member.requireID()).run()
                if index % 4 != 0, let briefing = try await Newsletter.query(on: db).filter(\.$forNewMembers == true).first() {
                    try await NewsletterSubscription(newsletterID: try briefing.requireID(), email: member.email, name: "", memberID: member.id, status: .active, source: .signup, createdAt: joined).create(on: db)
                }
                guard index % 3 == 0 else { continue }
                let plan = index % 2 == 0 ? yearly : monthly
                let currency = index % 5 == 0 ? "eur" : "usd"
                guard let price = plan.prices.first(where: { $0.currency == currency }) else { continue }
                let started = max(joined, now.addingTimeInterval(-Double(random.next(upTo: 60 * 24)) * 3_600))
                let status: Subscription.Status = switch index {
                case 9, 27, 45: .canceled
                case 33: .refunded
                case 51, 69: .pastDue
                default: .active
                }
                let periodStart = plan.interval == .year ? started : Self.monthStart(of: started, now: now)
                let subscription = Subscription()
                subscription.$member.id = try member.requireID()
                subscription.$plan.id = try plan.requireID()
                subscription.provider = "test"
                subscription.providerSubscriptionID = "sub_demo_\(index)"
                subscription.providerCustomerID = TestModeEvents.customerID(memberID: try member.requireID())
                subscription.status = status
                subscription.currentPeriodStart = periodStart
                subscription.currentPeriodEnd = TestModeEvents.period(after: periodStart, plan.interval)
                subscription.cancelAtPeriodEnd = false
                subscription.endedAt = [.canceled, .refunded].contains(status) ? min(now, started.addingTimeInterval(Double(8 + index % 10) * 86_400)) : nil
                subscription.amountMinor = price.amountMinor
                subscription.currency = currency
                subscription.interval = plan.interval
                subscription.stateVersion = Int64(started.timeIntervalSince1970)
                subscription.createdAt = started
                subscription.updatedAt = started
                try await subscription.create(on: db)
                try await Entitlements(database: db, rules: EntitlementRules(graceDays: 7, countedProviders: ["stripe", "test"])).refresh(memberID: member.requireID())
            }
        }
        return 80
    }

    /// The start of the monthly period that contains now, for a subscription started then.
    private static func monthStart(of started: Date, now: Date) -> Date {
        var start = started
        while TestModeEvents.period(after: start, .month) <= now { start = TestModeEvents.period(after: start, .month) }
        return start
    }
}

/// A small, repeatable sequence of numbers (a linear congruential generator), so the demo's
/// readers are the same on every machine.
struct SeededNumbers {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(upTo bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}
