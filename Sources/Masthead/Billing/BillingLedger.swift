import Fluent
import Foundation
import Logging
import SQLKit

/// Applies the provider's events to subscriptions and members' entitlements. Each event is
/// recorded by its id in the same transaction as its effect: a replayed event finds its record
/// and changes nothing, and a crash mid-way leaves neither the record nor half an effect, so the
/// provider's retry applies it whole.
///
/// Events may arrive in any order, and several at once. Events about one subscription take
/// turns (a PostgreSQL advisory lock; SQLite writes one transaction at a time anyway). A
/// subscription remembers the creation time of the newest event applied to it
/// (`stateVersion`): an older one changes nothing; one of the same second changes it only to a
/// later stage of its life; a cancelled subscription stays cancelled, and a refunded one stays
/// refunded until a new period is paid for.
struct BillingLedger: Sendable {
    /// The first key of the ledger's PostgreSQL advisory locks, so they meet no other locks.
    static let lockNamespace: Int32 = 0x42_49_4C

    let database: any Database
    let provider: any PaymentProvider
    let rules: EntitlementRules
    /// Tells members what happened (welcome, failed card, cancellation), through the outbox.
    let mail: BillingMail?
    let now: Date
    let logger: Logger

    enum Outcome: String, Sendable {
        case applied
        case replayed
        /// Older than what the subscription already reflects, or not a step it can take.
        case stale
        /// About a member, checkout or subscription Masthead does not know (a deleted account, say).
        case unknown
        /// Does not match what Masthead asked the provider for; nothing was given.
        case mismatched
        case ignored
    }

    /// What the provider was asked, before the transaction (no network call holds a database
    /// lock): the subscription a completed checkout names, the one a refunded charge paid for.
    private struct Fetched: Sendable {
        var subscription: BillingEvent.SubscriptionState?
        var refundedSubscriptionID: String?
    }

    func apply(_ event: BillingEvent) async throws -> Outcome {
        let fetched = Fetched(
            subscription: try await subscriptionMissingFrom(event),
            refundedSubscriptionID: try await refundedSubscription(event)
        )
        do {
            return try await applyOnce(event, fetched: fetched)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // A concurrent delivery of this event, or of another about the same new
            // subscription, won the race: once more, and the record or the row is there.
            return try await applyOnce(event, fetched: fetched)
        }
    }

    private func refundedSubscription(_ event: BillingEvent) async throws -> String? {
        guard case .chargeRefunded(_, let invoiceID?, _, true) = event.change else { return nil }
        return try await provider.subscriptionID(ofInvoice: invoiceID)
    }

    private func applyOnce(_ event: BillingEvent, fetched: Fetched) async throws -> Outcome {
        try await database.writeTransaction { db in
            try await takeTurn(on: fetched.refundedSubscriptionID ?? event.subject, db: db)
            let recorded = try await BillingEventRecord.query(on: db)
                .filter(\.$provider == provider.name).filter(\.$eventID == event.id).first()
            if recorded != nil { return .replayed }
            let (outcome, member) = try await effect(of: event, fetched: fetched, on: db)
            if let member { try await Entitlements(database: db, rules: rules).refresh(memberID: member) }
            let record = BillingEventRecord(provider: provider.name, eventID: event.id, type: event.type, outcome: outcome.rawValue, receivedAt: now)
            if outcome == .unknown, case .chargeRefunded(_, nil, let paymentID?, true) = event.change { record.refundedPaymentID = paymentID }
            try await record.create(on: db)
            logger.info("billing.event", metadata: ["id": "\(event.id)", "type": "\(event.type)", "outcome": "\(outcome.rawValue)"])
            return outcome
        }
    }

    /// Waits until no other transaction is applying an event about the same subscription (or
    /// customer), so two cannot both read the old state and both write: on PostgreSQL an
    /// advisory lock on the subject (a SQLite write transaction already holds the database's one
    /// write lock).
    private func takeTurn(on subject: String?, db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql", let key = subject else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.lockNamespace), hashtext(\(bind: key)))").run()
    }

    /// A completed checkout names its subscription; when no event about it has arrived yet, the
    /// provider is asked for it (outside the transaction: no network call holds a database lock).
    private func subscriptionMissingFrom(_ event: BillingEvent) async throws -> BillingEvent.SubscriptionState? {
        guard case .checkoutCompleted(_, _, let subscriptionID?, _, _) = event.change,
              try await subscription(subscriptionID, on: database) == nil
        else { return nil }
        return try await provider.subscription(id: subscriptionID)
    }

    /// The event's effect, and the member whose entitlement it may have changed.
    private func effect(of event: BillingEvent, fetched: Fetched, on db: any Database) async throws -> (Outcome, UUID?) {
        switch event.change {
        case .checkoutCompleted(let sessionID, let checkoutID, _, let paymentID, let paid):
            guard let checkoutID, let checkout = try await Checkout.find(checkoutID, on: db) else { return (.unknown, nil) }
            // A checkout reference alone proves nothing (a payment link can carry any): the
            // session must be the one Masthead opened for it.
            guard checkout.providerSessionID == sessionID else { return (.mismatched, nil) }
            if let gift = try await Gift.query(on: db).filter(\.$checkout.$id == checkoutID).first() {
                return try await giftPaid(gift, checkout: checkout, paymentID: paymentID, paid: paid, on: db)
            }
            checkout.completedAt = checkout.completedAt ?? now
            try await checkout.save(on: db)
            guard let subscription = fetched.subscription else { return (.applied, checkout.$member.id) }
            guard subscription.memberID == checkout.$member.id else { return (.mismatched, nil) }
            return try await record(subscription, version: event.created, on: db)

        case .subscriptionChanged(let state):
            return try await record(state, version: event.created, on: db)

        case .invoicePaid(let subscriptionID, let periodEnd, let renewal):
            guard let subscription = try await subscription(subscriptionID, on: db) else { return (.unknown, nil) }
            guard subscription.status != .refunded, !subscription.status.isFinal else { return (.stale, nil) }
            if let periodEnd, periodEnd > subscription.currentPeriodEnd { subscription.currentPeriodEnd = periodEnd }
            if event.created >= subscription.stateVersion, [.pastDue, .unpaid, .incomplete].contains(subscription.status) {
                subscription.status = .active
            }
            let saved = try await save(subscription, version: event.created, on: db)
            if renewal { try await notify(.receipt, subscription, on: db) }
            return saved

        case .invoicePaymentFailed(let subscriptionID):
            guard let subscription = try await subscription(subscriptionID, on: db) else { return (.unknown, nil) }
            guard event.created >= subscription.stateVersion else { return (.stale, nil) }
            if [.active, .trialing].contains(subscription.status) {
                subscription.status = .pastDue
                try await notify(.paymentFailed, subscription, on: db)
            }
            return try await save(subscription, version: event.created, on: db)

        case .chargeRefunded(let customerID, let invoiceID, let paymentID, let fully):
            guard fully else { return (.ignored, nil) }
            if let paymentID, let gift = try await Gift.query(on: db).filter(\.$provider == provider.name).filter(\.$providerPaymentID == paymentID).first() {
                return try await giftRefunded(gift, on: db)
            }
            // A one-off payment (no invoice) that is no gift Masthead knows yet is not a
            // subscription's either: the customer's subscription is not what was refunded.
            if paymentID != nil && invoiceID == nil { return (.unknown, nil) }
            guard let customerID, let subscription = try await refunded(customerID: customerID, subscriptionID: fetched.refundedSubscriptionID, on: db) else { return (.unknown, nil) }
            subscription.status = .refunded
            subscription.endedAt = min(subscription.endedAt ?? now, now)
            return try await save(subscription, version: event.created, on: db)

        case .ignored:
            return (.ignored, nil)
        }
    }

    private func record(_ state: BillingEvent.SubscriptionState, version: Int64, on db: any Database) async throws -> (Outcome, UUID?) {
        if let existing = try await subscription(state.id, on: db) {
            guard mayMove(existing, to: state, version: version) else { return (.stale, nil) }
            // A refund ends access for good; only a new paid period lifts it.
            let renewed = [.active, .trialing].contains(state.status) && state.currentPeriodEnd > existing.currentPeriodEnd
            let status = existing.status == .refunded && !renewed ? .refunded : state.status
            let notice = notice(from: existing, to: state, status: status)
            existing.fill(from: state, status: status)
            let saved = try await save(existing, version: version, on: db)
            if let notice { try await notify(notice, existing, on: db) }
            return saved
        }
        // Masthead puts the member on every subscription it starts; one without is not ours.
        guard let memberID = state.memberID, try await Member.find(memberID, on: db) != nil else { return (.unknown, nil) }
        let subscription = Subscription()
        subscription.$member.id = memberID
        subscription.provider = provider.name
        subscription.providerSubscriptionID = state.id
        subscription.createdAt = now
        subscription.$plan.id = try await planID(slug: state.planSlug, member: memberID, on: db)
        subscription.fill(from: state, status: state.status)
        let saved = try await save(subscription, version: version, on: db)
        if [.active, .trialing].contains(state.status) { try await notify(.welcome, subscription, on: db) }
        return saved
    }

    /// What a member should hear of a change to their subscription: a failed card, or a
    /// cancellation (once, whether it came as "cancels at period end" or as the end itself).
    private func notice(from existing: Subscription, to state: BillingEvent.SubscriptionState, status: Subscription.Status) -> BillingMail.Notice? {
        if status == .pastDue && [.active, .trialing].contains(existing.status) { return .paymentFailed }
        if existing.status == .incomplete && [.active, .trialing].contains(status) { return .welcome }
        let wasEnding = existing.cancelAtPeriodEnd || existing.status == .canceled
        let isEnding = state.cancelAtPeriodEnd || status == .canceled
        return !wasEnding && isEnding ? .cancelled : nil
    }

    private func notify(_ notice: BillingMail.Notice, _ subscription: Subscription, on db: any Database) async throws {
        try await mail?.enqueue(notice, for: subscription.$member.id, subscription: subscription, on: db, now: now)
    }

    /// Whether an event of this time may set this state: not older than the last one applied,
    /// never out of a final state nor back to incomplete, and in a tie only forward.
    private func mayMove(_ existing: Subscription, to state: BillingEvent.SubscriptionState, version: Int64) -> Bool {
        guard version >= existing.stateVersion else { return false }
        if existing.status.isFinal && state.status != existing.status { return false }
        if state.status == .incomplete && existing.status != .incomplete { return false }
        return version > existing.stateVersion || state.status.stage >= existing.status.stage
    }

    private func save(_ subscription: Subscription, version: Int64, on db: any Database) async throws -> (Outcome, UUID?) {
        subscription.stateVersion = max(subscription.$stateVersion.value ?? version, version)
        subscription.updatedAt = now
        try await subscription.save(on: db)
        return (.applied, subscription.$member.id)
    }

    /// The plan the subscription names (Masthead puts it in the metadata), else the plan of
    /// the member's latest checkout.
    private func planID(slug: String?, member memberID: UUID, on db: any Database) async throws -> UUID? {
        if let slug, let plan = try await Plan.query(on: db).filter(\.$slug == slug).first() { return plan.id }
        let checkout = try await Checkout.query(on: db).filter(\.$member.$id == memberID).sort(\.$createdAt, .descending).with(\.$price).first()
        return checkout?.price.$plan.id
    }

    /// The subscription a refunded charge paid for: the invoice's, when known; else the
    /// customer's subscription that gives access now, the newest first.
    private func refunded(customerID: String, subscriptionID: String?, on db: any Database) async throws -> Subscription? {
        if let subscriptionID { return try await subscription(subscriptionID, on: db) }
        return try await Subscription.query(on: db)
            .filter(\.$provider == provider.name).filter(\.$providerCustomerID == customerID)
            .filter(\.$status ~~ [.active, .trialing, .pastDue])
            .sort(\.$createdAt, .descending).first()
    }

    private func subscription(_ providerID: String, on db: any Database) async throws -> Subscription? {
        try await Subscription.query(on: db).filter(\.$provider == provider.name).filter(\.$providerSubscriptionID == providerID).first()
    }
}

extension BillingEvent {
    /// What the event is about, for taking turns: its subscription, else its customer.
    var subject: String? {
        switch change {
        case .checkoutCompleted(let sessionID, _, let subscriptionID, let paymentID, _): subscriptionID ?? paymentID ?? sessionID
        case .subscriptionChanged(let state): state.id
        case .invoicePaid(let subscriptionID, _, _), .invoicePaymentFailed(let subscriptionID): subscriptionID
        // A one-off payment's refund meets its completion (a gift) on the payment.
        case .chargeRefunded(let customerID, let invoiceID, let paymentID, _): invoiceID == nil ? paymentID ?? customerID : customerID
        case .ignored: nil
        }
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
    /// A one-off payment refunded before Masthead knew what it paid for (a gift whose
    /// completion is still on its way).
    @OptionalField(key: "refunded_payment_id") var refundedPaymentID: String?

    init() {}

    init(provider: String, eventID: String, type: String, outcome: String, receivedAt: Date) {
        self.provider = provider
        self.eventID = eventID
        self.type = type
        self.outcome = outcome
        self.receivedAt = receivedAt
    }
}
