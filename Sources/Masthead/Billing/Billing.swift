import Fluent
import Foundation
import Logging

/// Billing as the pages use it: starting a checkout, applying events, and what a member's
/// subscription looks like now. Without a provider (no Stripe, no test mode) nobody can pay,
/// and what a member already has is still shown and honoured.
struct Billing: Sendable {
    let provider: (any PaymentProvider)?
    let publicURL: String
    let rules: EntitlementRules
    /// Whether no money moves: Masthead's own test mode, or Stripe with a test key (where
    /// Stripe's test cards pay).
    let isTestMode: Bool
    let mail: BillingMail

    var graceDays: Int { rules.graceDays }

    func ledger(on database: any Database, now: Date, logger: Logger) throws -> BillingLedger {
        guard let provider else { throw SiteError.notFound }
        return BillingLedger(database: database, provider: provider, rules: rules, mail: mail, now: now, logger: logger)
    }

    /// Records the reader's choice and asks the provider where they pay for it.
    func startCheckout(member: Member, price: PlanPrice, edition: Edition, returnPath: String, on database: any Database, now: Date) async throws -> String {
        guard let provider else { throw SiteError.notFound }
        let plan = price.plan
        let checkout = Checkout(memberID: try member.requireID(), priceID: try price.requireID(), returnPath: returnPath, edition: edition.code, createdAt: now)
        try await checkout.create(on: database)
        let urls = BillingURL(edition: edition)
        // A trial is for a first subscription only; a returning reader pays from the start, as
        // the customer the provider already knows.
        let earlier = try await Subscription.query(on: database).filter(\.$member.$id == member.requireID()).sort(\.$createdAt, .descending).all()
        let session = try await provider.checkoutURL(for: CheckoutRequest(
            checkoutID: try checkout.requireID(), memberID: try member.requireID(), email: member.email,
            customerID: earlier.first { $0.provider == provider.name }?.providerCustomerID,
            planSlug: plan.slug, planName: plan.name, price: price.money, interval: plan.interval, providerPriceID: price.providerPriceID,
            trialDays: earlier.isEmpty ? plan.trialDays : 0, isGift: false,
            successURL: publicURL + urls.done(checkout: try checkout.requireID()),
            cancelURL: publicURL + urls.plans(returningTo: returnPath)
        ))
        checkout.providerSessionID = session.id
        try await checkout.save(on: database)
        return session.url
    }

    /// The member's subscription that matters most now: the one giving access longest, else the latest.
    func currentSubscription(of memberID: UUID, on database: any Database) async throws -> Subscription? {
        let all = try await Subscription.query(on: database).filter(\.$member.$id == memberID).with(\.$plan).all()
        return all.max { a, b in
            let (accessA, accessB) = (Entitlement.paidUntil(a, graceDays: graceDays), Entitlement.paidUntil(b, graceDays: graceDays))
            if accessA != accessB { return (accessA ?? .distantPast) < (accessB ?? .distantPast) }
            return a.updatedAt < b.updatedAt
        }
    }
}
