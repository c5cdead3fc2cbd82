import Fluent
import Foundation

/// What a reader can pay for: a named plan, billed every month or every year, with a price in
/// each currency the outlet takes.
final class Plan: Model, @unchecked Sendable {
    static let schema = "plans"

    enum Interval: String, Codable, Sendable {
        case month, year
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "slug") var slug: String
    @Field(key: "name") var name: String
    @Field(key: "description") var description: String
    @Enum(key: "interval") var interval: Interval
    /// Days free before the first charge; zero for none.
    @Field(key: "trial_days") var trialDays: Int
    /// Archived plans keep their subscribers but are no longer offered.
    @Field(key: "active") var active: Bool
    @Field(key: "position") var position: Int
    /// The name and description in other editions' languages, as JSON by edition code.
    @Field(key: "translations") var translationsJSON: String
    @Children(for: \.$plan) var prices: [PlanPrice]

    init() {}

    struct Translation: Codable, Sendable, Equatable {
        var name: String
        var description: String
    }

    var translations: [String: Translation] {
        get { (try? JSONDecoder().decode([String: Translation].self, from: Data(translationsJSON.utf8))) ?? [:] }
        set { translationsJSON = String(decoding: (try? JSONEncoder().encode(newValue)) ?? Data("{}".utf8), as: UTF8.self) }
    }

    /// The plan's name for readers of an edition: its translation, else the name staff gave.
    func name(in edition: Edition) -> String {
        translations[edition.code].map(\.name).flatMap { $0.isEmpty ? nil : $0 } ?? name
    }

    func description(in edition: Edition) -> String {
        translations[edition.code].map(\.description).flatMap { $0.isEmpty ? nil : $0 } ?? description
    }

    init(slug: String, name: String, description: String, interval: Interval, trialDays: Int = 0, position: Int) {
        self.slug = slug
        self.name = name
        self.description = description
        self.interval = interval
        self.trialDays = trialDays
        self.active = true
        self.position = position
        self.translationsJSON = "{}"
    }
}

/// A plan's price in one currency, in the currency's minor unit (cents), as payment providers count.
final class PlanPrice: Model, @unchecked Sendable {
    static let schema = "plan_prices"

    @ID(key: .id) var id: UUID?
    @Parent(key: "plan_id") var plan: Plan
    /// ISO 4217, lower case as Stripe writes it.
    @Field(key: "currency") var currency: String
    @Field(key: "amount_minor") var amountMinor: Int
    /// The provider's own id for this price, when it was created there; else the checkout
    /// describes the price inline.
    @OptionalField(key: "provider_price_id") var providerPriceID: String?

    init() {}

    init(planID: UUID, currency: String, amountMinor: Int) {
        self.$plan.id = planID
        self.currency = currency
        self.amountMinor = amountMinor
    }

    var money: Money { Money(minor: amountMinor, currency: currency) }
}

/// The plans on offer, in the order the outlet chose.
struct PlanCatalog: Sendable {
    let database: any Database

    func offered() async throws -> [Plan] {
        try await Plan.query(on: database).filter(\.$active == true).with(\.$prices).sort(\.$position).all()
    }

    /// An offered plan's price in a currency, with its plan.
    func price(planSlug: String, currency: String) async throws -> PlanPrice? {
        guard let plan = try await Plan.query(on: database).filter(\.$slug == planSlug).filter(\.$active == true).first() else { return nil }
        return try await PlanPrice.query(on: database).filter(\.$plan.$id == plan.requireID()).filter(\.$currency == currency).with(\.$plan).first()
    }
}
