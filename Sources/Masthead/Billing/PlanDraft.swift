import Fluent
import Foundation

/// A plan as staff edit it, checked before anything is saved: a plan is saved whole, with all
/// its prices, or not at all.
struct PlanDraft: Sendable {
    struct Price: Sendable {
        var currency: String
        var amount: String
        var providerPriceID: String
    }

    var name: String
    var description: String
    var interval: Plan.Interval
    var trialDays: String
    var active: Bool
    var prices: [Price]
    /// Name and description by edition code, for editions other than the default.
    var translations: [String: Plan.Translation] = [:]

    /// Rows offered on the form: the plan's prices and a few empty ones for new currencies.
    static let priceRows = 4

    init(name: String, description: String, interval: Plan.Interval, trialDays: String, active: Bool, prices: [Price]) {
        self.name = name
        self.description = description
        self.interval = interval
        self.trialDays = trialDays
        self.active = active
        self.prices = prices
    }

    init(_ plan: Plan) {
        self.init(
            name: plan.name, description: plan.description, interval: plan.interval, trialDays: String(plan.trialDays), active: plan.active,
            prices: plan.prices.sorted { $0.currency < $1.currency }.map { Price(currency: $0.currency.uppercased(), amount: $0.money.plain, providerPriceID: $0.providerPriceID ?? "") }
        )
        self.translations = plan.translations
    }

    /// The problems with the draft, by field; empty when it can be saved.
    func problems() -> [String: String] {
        var problems: [String: String] = [:]
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 60 { problems["name"] = "Give the plan a name readers will see, up to 60 characters." }
        if description.count > 300 { problems["description"] = "Keep the description under 300 characters." }
        if translations.values.contains(where: { $0.name.count > 60 || $0.description.count > 300 }) {
            problems["translations"] = "Keep each translated name to 60 characters and each description under 300."
        }
        if Int(trialDays).map({ !(0...365).contains($0) }) ?? true { problems["trialDays"] = "Trial days are a whole number from 0 to 365." }
        let filled = prices.filter { !$0.currency.trimmingCharacters(in: .whitespaces).isEmpty || !$0.amount.trimmingCharacters(in: .whitespaces).isEmpty }
        var seen = Set<String>()
        for price in filled {
            let currency = price.currency.trimmingCharacters(in: .whitespaces).lowercased()
            guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                problems["prices"] = "Each price needs a three-letter currency such as USD or EUR."
                break
            }
            guard Money.parse(price.amount, currency: currency).map({ $0 > 0 }) == true else {
                problems["prices"] = "\(currency.uppercased()): give the amount as readers pay it, such as 100 or 9.50."
                break
            }
            guard seen.insert(currency).inserted else {
                problems["prices"] = "\(currency.uppercased()) is given twice."
                break
            }
            if !price.providerPriceID.isEmpty && !(price.providerPriceID.hasPrefix("price_") && price.providerPriceID.count <= 255 && price.providerPriceID.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                problems["prices"] = "A Stripe price id looks like price_1Abc…; leave it empty to let Masthead describe the price."
                break
            }
        }
        if filled.isEmpty && problems["prices"] == nil { problems["prices"] = "Give the plan at least one price." }
        return problems
    }

    /// Saves the draft onto the plan (new or existing) and replaces its prices.
    func save(onto plan: Plan, on database: any Database) async throws {
        plan.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        plan.description = description.trimmingCharacters(in: .whitespacesAndNewlines)
        plan.interval = interval
        plan.trialDays = Int(trialDays) ?? 0
        plan.active = active
        plan.translations = translations.compactMapValues { text in
            let trimmed = Plan.Translation(name: text.name.trimmingCharacters(in: .whitespacesAndNewlines), description: text.description.trimmingCharacters(in: .whitespacesAndNewlines))
            return trimmed.name.isEmpty && trimmed.description.isEmpty ? nil : trimmed
        }
        if plan.id == nil {
            plan.slug = try await Self.freeSlug(for: plan.name, on: database)
            plan.position = (try await Plan.query(on: database).max(\.$position) ?? 0) + 1
        }
        try await plan.save(on: database)
        let planID = try plan.requireID()
        let existing = try await PlanPrice.query(on: database).filter(\.$plan.$id == planID).all()
        var kept = Set<UUID>()
        for draft in prices where !draft.currency.trimmingCharacters(in: .whitespaces).isEmpty {
            let currency = draft.currency.trimmingCharacters(in: .whitespaces).lowercased()
            let amount = Money.parse(draft.amount, currency: currency) ?? 0
            let price = existing.first { $0.currency == currency } ?? PlanPrice(planID: planID, currency: currency, amountMinor: amount)
            // A changed amount is a new price at the provider: its old id no longer describes it.
            let givenID = draft.providerPriceID.isEmpty ? nil : draft.providerPriceID
            price.providerPriceID = price.amountMinor == amount || givenID != price.providerPriceID ? givenID : nil
            price.amountMinor = amount
            try await price.save(on: database)
            kept.insert(try price.requireID())
        }
        // A price a reader has checked out with stays, so their checkout keeps its record.
        for price in existing where !kept.contains(try price.requireID()) {
            guard try await Checkout.query(on: database).filter(\.$price.$id == price.requireID()).count() == 0 else { continue }
            try await price.delete(on: database)
        }
    }

    private static func freeSlug(for name: String, on database: any Database) async throws -> String {
        let base = String(name.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "-" })
            .split(separator: "-").joined(separator: "-").prefix(40)
        let stem = base.isEmpty ? "plan" : String(base)
        var slug = stem, counter = 2
        while try await Plan.query(on: database).filter(\.$slug == slug).first() != nil {
            slug = "\(stem)-\(counter)"
            counter += 1
        }
        return slug
    }
}
