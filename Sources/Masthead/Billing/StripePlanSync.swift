import Fluent
import Foundation
import Vapor

/// `masthead billing sync-plans`: creates at Stripe the products and prices for plan prices
/// that have no Stripe price yet, and records their ids, so checkouts name Stripe's price
/// rather than describing it (Stripe's dashboard then reports by product). Safe to run again:
/// each price is created under an idempotency key of its own, and a price that has an id is left.
public enum StripePlanSync {
    public struct Progress: Sendable {
        public let done: Int
        public let total: Int
        public let label: String
    }

    /// Why the sync stopped, in one line for the operator.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public static let notConfigured = Failure(description: "Stripe is not configured: set MASTHEAD_STRIPE_SECRET_KEY and MASTHEAD_STRIPE_WEBHOOK_SECRET")
    }

    /// Returns how many prices were created at Stripe; what was created before a failure is kept.
    @discardableResult
    public static func run(app: Application, settings: Settings, progress: @Sendable (Progress) -> Void) async throws -> Int {
        do {
            return try await sync(app: app, settings: settings, progress: progress)
        } catch let error as PaymentProviderError {
            throw Failure(description: error.description)
        }
    }

    private static func sync(app: Application, settings: Settings, progress: @Sendable (Progress) -> Void) async throws -> Int {
        guard let stripe = settings.billing.stripe else { throw Failure.notConfigured }
        let api = StripeClient(client: { app.client }, secretKey: stripe.secretKey, apiBase: stripe.apiBase, logger: app.logger)
        let plans = try await Plan.query(on: app.db).with(\.$prices).sort(\.$position).all()
        let missing = plans.flatMap { plan in plan.prices.filter { $0.providerPriceID == nil }.map { (plan, $0) } }
        progress(Progress(done: 0, total: missing.count, label: ""))
        var products: [UUID: String] = [:]
        for (index, (plan, price)) in missing.enumerated() {
            let planID = try plan.requireID()
            if products[planID] == nil { products[planID] = try await product(for: plan, api: api) }
            let created = try await api.post("/v1/prices", form: [
                ("product", products[planID]!),
                ("currency", price.currency),
                ("unit_amount", String(price.amountMinor)),
                ("recurring[interval]", plan.interval.rawValue),
                ("metadata[masthead_plan]", plan.slug),
            ], idempotencyKey: "masthead-price-\(try price.requireID().uuidString)-\(price.amountMinor)-\(plan.interval.rawValue)")
            guard let id = created["id"] as? String else { throw PaymentProviderError(description: "Stripe's price has no id") }
            price.providerPriceID = id
            try await price.save(on: app.db)
            progress(Progress(done: index + 1, total: missing.count, label: "\(plan.name), \(price.currency.uppercased())"))
        }
        return missing.count
    }

    /// The plan's product at Stripe: the one its other prices belong to, or a new one.
    private static func product(for plan: Plan, api: StripeClient) async throws -> String {
        if let known = plan.prices.compactMap(\.providerPriceID).first,
           let product = try await api.get("/v1/prices/\(known)")["product"] as? String {
            return product
        }
        var form = [("name", plan.name), ("metadata[masthead_plan]", plan.slug)]
        if !plan.description.isEmpty { form.append(("description", plan.description)) }
        let created = try await api.post("/v1/products", form: form, idempotencyKey: "masthead-product-\(try plan.requireID().uuidString)")
        guard let id = created["id"] as? String else { throw PaymentProviderError(description: "Stripe's product has no id") }
        return id
    }
}
