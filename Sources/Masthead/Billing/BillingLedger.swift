import Fluent
import Foundation
import Logging

/// Applies the provider's events to subscriptions and members' entitlements. Each event is
/// recorded by its id in the same transaction as its effect: a replayed event finds its record
/// and changes nothing, and a crash mid-way leaves neither the record nor half an effect, so the
/// provider's retry applies it whole.
///
/// Events may arrive in any order. A subscription remembers the creation time of the newest
/// event applied to it (`stateVersion`); an older one arriving late changes nothing that the
/// newer one decided.
struct BillingLedger: Sendable {
    let database: any Database
    let provider: any PaymentProvider
    let graceDays: Int
    let now: Date
    let logger: Logger

    enum Outcome: String, Sendable {
        case applied
        case replayed
        /// Older than what the subscription already reflects.
        case stale
        /// About a member or subscription Masthead does not know (a deleted account, say).
        case unknown
        case ignored
    }

    func apply(_ event: BillingEvent) async throws -> Outcome {
        let fetched = try await subscriptionMissingFrom(event)
        do {
            return try await applyOnce(event, fetched: fetched)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // A concurrent delivery of this event, or of another about the same new
            // subscription, won the race: once more, and the record or the row is there.
            return try await applyOnce(event, fetched: fetched)
        }
    }

    private func applyOnce(_ event: BillingEvent, fetched: BillingEvent.SubscriptionState?) async throws -> Outcome {
        try await database.transaction { db in
            let recorded = try await BillingEventRecord.query(on: db)
                .filter(\.$provider == provider.name).filter(\.$eventID == event.id).first()
            if recorded != nil { return .replayed }
            let (outcome, member) = try await effect(of: event, fetched: fetched, on: db)
            if let member { try await refreshEntitlement(of: member, on: db) }
            try await BillingEventRecord(provider: provider.name, eventID: event.id, type: event.type, outcome: outcome.rawValue, receivedAt: now).create(on: db)
            logger.info("billing.event", metadata: ["id": "\(event.id)", "type": "\(event.type)", "outcome": "\(outcome.rawValue)"])
            return outcome
        }
    }

    /// A completed checkout names its subscription; when no event about it has arrived yet, the
    /// provider is asked for it (outside the transaction: no network call holds a database lock).
    private func subscriptionMissingFrom(_ event: BillingEvent) async throws -> BillingEvent.SubscriptionState? {
        guard case .checkoutCompleted(_, _, let subscriptionID?) = event.change,
              try await subscription(subscriptionID, on: database) == nil
        else { return nil }
        return try await provider.subscription(id: subscriptionID)
    }

    /// The event's effect, and the member whose entitlement it may have changed.
    private func effect(of event: BillingEvent, fetched: BillingEvent.SubscriptionState?, on db: any Database) async throws -> (Outcome, UUID?) {
        switch event.change {
        case .checkoutCompleted(let checkoutID, _, _):
            guard let checkoutID, let checkout = try await Checkout.find(checkoutID, on: db) else { return (.unknown, nil) }
            checkout.completedAt = checkout.completedAt ?? now
            try await checkout.save(on: db)
            guard let fetched else { return (.applied, checkout.$member.id) }
            return try await record(fetched, version: event.created, fallbackMember: checkout.$member.id, on: db)

        case .subscriptionChanged(let state):
            return try await record(state, version: event.created, fallbackMember: nil, on: db)

        case .invoicePaid(let subscriptionID, let periodEnd):
            guard let subscription = try await subscription(subscriptionID, on: db) else { return (.unknown, nil) }
            if let periodEnd, periodEnd > subscription.currentPeriodEnd { subscription.currentPeriodEnd = periodEnd }
            if event.created >= subscription.stateVersion, [.pastDue, .unpaid, .incomplete].contains(subscription.status) {
                subscription.status = .active
            }
            return try await save(subscription, version: event.created, on: db)

        case .invoicePaymentFailed(let subscriptionID):
            guard let subscription = try await subscription(subscriptionID, on: db) else { return (.unknown, nil) }
            guard event.created >= subscription.stateVersion else { return (.stale, nil) }
            if [.active, .trialing].contains(subscription.status) { subscription.status = .pastDue }
            return try await save(subscription, version: event.created, on: db)

        case .chargeRefunded(let customerID, let fully):
            guard fully else { return (.ignored, nil) }
            guard let subscription = try await Subscription.query(on: db)
                .filter(\.$provider == provider.name).filter(\.$providerCustomerID == customerID)
                .sort(\.$currentPeriodEnd, .descending).first()
            else { return (.unknown, nil) }
            subscription.status = .refunded
            subscription.endedAt = min(subscription.endedAt ?? now, now)
            return try await save(subscription, version: event.created, on: db)

        case .ignored:
            return (.ignored, nil)
        }
    }

    private func record(_ state: BillingEvent.SubscriptionState, version: Int64, fallbackMember: UUID?, on db: any Database) async throws -> (Outcome, UUID?) {
        if let existing = try await subscription(state.id, on: db) {
            guard version >= existing.stateVersion else { return (.stale, nil) }
            // A refund ends access for good; only a new paid period lifts it.
            let renewed = [.active, .trialing].contains(state.status) && state.currentPeriodEnd > existing.currentPeriodEnd
            let status = existing.status == .refunded && !renewed ? .refunded : state.status
            fill(existing, from: state, status: status)
            return try await save(existing, version: version, on: db)
        }
        guard let memberID = state.memberID ?? fallbackMember, try await Member.find(memberID, on: db) != nil else { return (.unknown, nil) }
        let subscription = Subscription()
        subscription.$member.id = memberID
        subscription.provider = provider.name
        subscription.providerSubscriptionID = state.id
        subscription.createdAt = now
        subscription.$plan.id = try await planID(forMember: memberID, on: db)
        fill(subscription, from: state, status: state.status)
        return try await save(subscription, version: version, on: db)
    }

    private func fill(_ subscription: Subscription, from state: BillingEvent.SubscriptionState, status: Subscription.Status) {
        subscription.providerCustomerID = state.customerID
        subscription.status = status
        subscription.currentPeriodEnd = state.currentPeriodEnd
        subscription.cancelAtPeriodEnd = state.cancelAtPeriodEnd
        subscription.endedAt = state.endedAt ?? (status == .refunded ? subscription.endedAt : nil)
        subscription.amountMinor = state.amountMinor
        subscription.currency = state.currency
        subscription.interval = state.interval
    }

    private func save(_ subscription: Subscription, version: Int64, on db: any Database) async throws -> (Outcome, UUID?) {
        subscription.stateVersion = max(subscription.$stateVersion.value ?? version, version)
        subscription.updatedAt = now
        try await subscription.save(on: db)
        return (.applied, subscription.$member.id)
    }

    /// The plan of the member's latest checkout: what they chose before paying.
    private func planID(forMember memberID: UUID, on db: any Database) async throws -> UUID? {
        let checkout = try await Checkout.query(on: db).filter(\.$member.$id == memberID).sort(\.$createdAt, .descending).with(\.$price).first()
        return checkout?.price.$plan.id
    }

    private func subscription(_ providerID: String, on db: any Database) async throws -> Subscription? {
        try await Subscription.query(on: db).filter(\.$provider == provider.name).filter(\.$providerSubscriptionID == providerID).first()
    }

    /// Recomputes what the member may read and, when it changed, tells every instance to forget
    /// what it remembered of sessions (their access level with them).
    private func refreshEntitlement(of memberID: UUID, on db: any Database) async throws {
        guard let member = try await Member.find(memberID, on: db) else { return }
        let subscriptions = try await Subscription.query(on: db).filter(\.$member.$id == memberID).all()
        let paidUntil = Entitlement.paidUntil(subscriptions, graceDays: graceDays)
        guard paidUntil != member.paidUntil else { return }
        member.paidUntil = paidUntil
        try await member.save(on: db)
        try await SiteCounters.increment(MemberSessions.generationKey, on: db)
    }
}

/// A provider event already applied, by its id.
final class BillingEventRecord: Model, @unchecked Sendable {
    static let schema = "billing_events"

    @ID(key: .id) var id: UUID?
    @Field(key: "provider") var provider: String
    @Field(key: "event_id") var eventID: String
    @Field(key: "type") var type: String
    @Field(key: "outcome") var outcome: String
    @Field(key: "received_at") var receivedAt: Date

    init() {}

    init(provider: String, eventID: String, type: String, outcome: String, receivedAt: Date) {
        self.provider = provider
        self.eventID = eventID
        self.type = type
        self.outcome = outcome
        self.receivedAt = receivedAt
    }
}
