import Fluent
import Foundation
import Vapor

/// The plans readers can buy (the owner's): name, description, monthly or yearly, a trial, a
/// price in each currency (with Stripe's price id, or none to have the checkout describe it),
/// offered or archived. Archived plans keep their subscribers but are no longer offered.
struct PlansController: Sendable {
    let admin: AdminPages

    struct Row {
        let name: String
        let interval: String
        let prices: String
        let trial: String
        let state: String
        let subscribers: Int
        let editURL: String
    }

    struct ListPage {
        let layout: AdminPages.Layout
        let notice: String?
        let rows: [Row]
        let newURL = AdminURL.newPlan
    }

    struct PriceRow {
        let index: Int
        let currency: String
        let amount: String
        let providerPriceID: String
    }

    struct TranslationRow {
        let edition: String
        let language: String
        let direction: String
        let name: String
        let description: String
    }

    struct EditPage {
        let layout: AdminPages.Layout
        let csrf: String
        let heading: String
        let action: String
        let errors: [String: String]
        let hasErrors: Bool
        let name: String
        let description: String
        let monthly: Bool
        let trialDays: String
        let active: Bool
        let prices: [PriceRow]
        let translations: [TranslationRow]
        let hasTranslations: Bool
        let listURL = AdminURL.plans
    }

    struct Form: Content {
        var name: String?
        var description: String?
        var interval: String?
        var trialDays: String?
        var active: String?
        var currency: [String]?
        var amount: [String]?
        var providerPriceID: [String]?
        var translationEdition: [String]?
        var translationName: [String]?
        var translationDescription: [String]?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.plans) { try await list($0) }
        routes.get(AdminURL.Segment.plans, AdminURL.Segment.new) { try edit($0, plan: nil, draft: nil) }
        routes.post(AdminURL.Segment.plans, AdminURL.Segment.new) { try await save($0, plan: Plan()) }
        routes.get(AdminURL.Segment.plans, ":id") { req in try edit(req, plan: try await plan(req), draft: nil) }
        routes.post(AdminURL.Segment.plans, ":id") { req in try await save(req, plan: try await plan(req)) }
    }

    func list(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.manageBilling)
        let plans = try await Plan.query(on: req.db).with(\.$prices).sort(\.$position).all()
        var rows: [Row] = []
        for plan in plans {
            let subscribers = try await Subscription.query(on: req.db).filter(\.$plan.$id == plan.requireID())
                .filter(\.$status ~~ [.active, .trialing, .pastDue]).count()
            rows.append(Row(
                name: plan.name, interval: plan.interval == .year ? "Yearly" : "Monthly",
                prices: plan.prices.sorted { $0.currency < $1.currency }.map { $0.money.formatted(locale: Locale(identifier: "en_GB")) + ($0.providerPriceID == nil ? "" : " (Stripe)") }.joined(separator: ", "),
                trial: plan.trialDays > 0 ? "\(plan.trialDays) days" : "none", state: plan.active ? "offered" : "archived",
                subscribers: subscribers, editURL: AdminURL.plan(try plan.requireID())
            ))
        }
        return try admin.render("admin/plans", ListPage(
            layout: admin.layout("Plans", for: req, current: AdminURL.plans),
            notice: req.query[String.self, at: "done"] == "saved" ? "The plan is saved; the plans page shows it now." : nil,
            rows: rows
        ))
    }

    func edit(_ req: Request, plan: Plan?, draft: PlanDraft?, errors: [String: String] = [:]) throws -> Response {
        _ = try req.requireStaff(.manageBilling)
        let draft = draft ?? plan.map(PlanDraft.init) ?? PlanDraft(name: "", description: "", interval: .year, trialDays: "0", active: true, prices: [])
        let rows = (0..<max(PlanDraft.priceRows, draft.prices.count + 1)).map { index in
            let price = draft.prices.indices.contains(index) ? draft.prices[index] : PlanDraft.Price(currency: "", amount: "", providerPriceID: "")
            return PriceRow(index: index + 1, currency: price.currency, amount: price.amount, providerPriceID: price.providerPriceID)
        }
        let translations = admin.theme.editions.all.filter { !$0.isDefault }.map { edition in
            TranslationRow(edition: edition.code, language: edition.name, direction: edition.direction.rawValue,
                           name: draft.translations[edition.code]?.name ?? "", description: draft.translations[edition.code]?.description ?? "")
        }
        let heading = plan?.id == nil ? "New plan" : "Plan: \(plan?.name ?? "")"
        return try admin.render("admin/plan", EditPage(
            layout: admin.layout(heading, for: req, current: AdminURL.plans),
            csrf: admin.token(req), heading: heading,
            action: plan?.id.map(AdminURL.plan) ?? AdminURL.newPlan,
            errors: errors, hasErrors: !errors.isEmpty,
            name: draft.name, description: draft.description, monthly: draft.interval == .month,
            trialDays: draft.trialDays, active: draft.active, prices: rows,
            translations: translations, hasTranslations: !translations.isEmpty
        ), status: errors.isEmpty ? .ok : .unprocessableEntity)
    }

    func save(_ req: Request, plan: Plan) async throws -> Response {
        let staff = try req.requireStaff(.manageBilling)
        let form = try req.content.decode(Form.self)
        let currencies = form.currency ?? [], amounts = form.amount ?? [], ids = form.providerPriceID ?? []
        var draft = PlanDraft(
            name: form.name ?? "", description: form.description ?? "",
            interval: form.interval == "month" ? .month : .year, trialDays: form.trialDays ?? "0", active: form.active == "1",
            prices: currencies.indices.prefix(12).map { index in
                PlanDraft.Price(
                    currency: currencies[index], amount: amounts.indices.contains(index) ? amounts[index] : "",
                    providerPriceID: (ids.indices.contains(index) ? ids[index] : "").trimmingCharacters(in: .whitespaces)
                )
            }
        )
        let codes = form.translationEdition ?? [], names = form.translationName ?? [], descriptions = form.translationDescription ?? []
        let known = Set(admin.theme.editions.all.map(\.code))
        draft.translations = Dictionary(codes.indices.prefix(12).compactMap { index in
            guard known.contains(codes[index]) else { return nil }
            return (codes[index], Plan.Translation(name: names.indices.contains(index) ? names[index] : "", description: descriptions.indices.contains(index) ? descriptions[index] : ""))
        }, uniquingKeysWith: { first, _ in first })
        let problems = draft.problems()
        let checked = draft
        guard problems.isEmpty else { return try edit(req, plan: plan, draft: draft, errors: problems) }
        let isNew = plan.id == nil
        try await req.db.writeTransaction { db in
            try await checked.save(onto: plan, on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, isNew ? "created plan" : "changed plan", plan.name)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.plans, "saved"), redirectType: .normal)
    }

    private func plan(_ req: Request) async throws -> Plan {
        guard let id = req.parameters.get("id", as: UUID.self),
              let plan = try await Plan.query(on: req.db).filter(\.$id == id).with(\.$prices).first()
        else { throw SiteError.notFound }
        return plan
    }
}
