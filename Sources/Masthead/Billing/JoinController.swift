import Fluent
import Foundation
import Vapor

/// The way from the paywall to paying: the plans page, the step that signs a reader in (by
/// emailed link) before checkout, the checkout itself, the page the provider returns to, and
/// the member's way to manage their billing.
struct JoinController: Sendable {
    let pages: SitePages
    let csrf: CSRF
    let billing: Billing
    let settings: Settings
    let viewers: Viewers

    /// How long the return page waits for the provider's word before saying it is on its way.
    var confirmationWait: Duration = .seconds(5)

    func register(on routes: any RoutesBuilder, editions: EditionCatalog) {
        for edition in editions.all {
            let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
            let join = group.grouped(.constant(BillingURL.join))
            join.get { try await plans($0, edition: edition) }
            join.get(.constant(BillingURL.checkout)) { try await confirmCheckout($0, edition: edition) }
            join.post(.constant(BillingURL.checkout)) { try await checkout($0, edition: edition) }
            join.get(.constant(BillingURL.done)) { try await returned($0, edition: edition) }
            group.post(.constant(BillingURL.account), .constant(BillingURL.manage)) { try await manageBilling($0, edition: edition) }
        }
    }

    // MARK: Plans

    func plans(_ req: Request, edition: Edition) async throws -> Response {
        let returnPath = returnPath(req, edition: edition)
        let offered = try await PlanCatalog(database: req.db).offered()
        let currencies = Set(offered.flatMap { $0.prices.map(\.currency) }).sorted()
        let wanted = req.query[String.self, at: "currency"] ?? settings.billing.currency
        let currency = currencies.contains(wanted) ? wanted : currencies.contains(settings.billing.currency) ? settings.billing.currency : currencies.first ?? settings.billing.currency
        let signedIn = req.signedIn
        let (binding, newCookie) = csrf.binding(for: req, session: signedIn?.sessionToken)
        let token = csrf.token(for: binding)
        let texts = JoinTexts(edition: edition, settings: settings)
        let urls = BillingURL(edition: edition)
        let alreadyPaid = signedIn?.viewer == .paidMember
        let cards: [PlansPageModel.Plan] = alreadyPaid || billing.provider == nil ? [] : offered.compactMap { plan in
            guard let price = plan.prices.first(where: { $0.currency == currency }) else { return nil }
            let hidden: [FormPageModel.Hidden] = [.init(name: "plan", value: plan.slug), .init(name: "currency", value: currency), .init(name: "return", value: returnPath)]
            return PlansPageModel.Plan(
                name: plan.name(in: edition), description: plan.description(in: edition),
                price: price.money.formatted(locale: Locale(identifier: edition.locale)),
                interval: edition.text("plan_per_\(plan.interval.rawValue)"),
                trial: plan.trialDays > 0 ? edition.text("plan_trial", ["days": String(plan.trialDays)]) : nil,
                // Signed in, the choice goes straight to checkout; otherwise to the sign-in step first.
                method: signedIn == nil ? "get" : "post",
                action: urls.checkout,
                hidden: signedIn == nil ? hidden : hidden + [.init(name: CSRF.fieldName, value: token)],
                label: edition.text("plan_choose", ["plan": plan.name(in: edition)])
            )
        }
        let model = PlansPageModel(
            layout: pages.personalLayout(edition: edition, title: texts.title, access: signedIn?.viewer.accessLevel ?? .anonymous),
            title: texts.title,
            intro: edition.text("plans_intro", texts.values),
            notice: billing.provider == nil ? edition.text("plans_closed") : billing.isTestMode ? edition.text("billing_test_mode") : nil,
            alreadyPaid: alreadyPaid ? .init(label: edition.text("plans_already_paid"), url: MemberURL(edition: edition).account) : nil,
            plans: cards,
            currencies: currencies.count > 1 ? currencies.map {
                .init(label: $0.uppercased(), url: "\(urls.plans)?currency=\($0)&return=\(MemberURL.encode(returnPath))", current: $0 == currency)
            } : [],
            free: signedIn == nil ? .init(
                title: edition.text("plans_free_title"), text: edition.text("join_intro", texts.values),
                action: MemberURL(edition: edition).join,
                hidden: [.init(name: CSRF.fieldName, value: token), .init(name: "return", value: returnPath)],
                emailLabel: edition.text("form_email"), nameLabel: edition.text("form_name"),
                hint: edition.text("form_email_hint"), submitLabel: edition.text("join_submit")
            ) : nil,
            signIn: signedIn == nil ? .init(label: edition.text("signin_instead", texts.values), url: MemberURL(edition: edition).signIn(returningTo: returnPath)) : nil,
            gift: billing.provider == nil || offered.isEmpty ? nil : .init(label: edition.text("plans_gift", texts.values), url: "\(urls.gift)?currency=\(currency)")
        )
        let response = try pages.personalResponse("plans", model)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    // MARK: Checkout

    /// Where a chosen plan leads: a reader not signed in gives their address first (the emailed
    /// link brings them back here); a signed-in reader confirms and goes on to pay.
    func confirmCheckout(_ req: Request, edition: Edition) async throws -> Response {
        guard billing.provider != nil else { throw SiteError.notFound }
        let choice = try await chosenPrice(req, edition: edition, from: req.query[String.self, at: "plan"], req.query[String.self, at: "currency"])
        let returnPath = returnPath(req, edition: edition)
        let urls = BillingURL(edition: edition)
        let here = urls.checkout(plan: choice.plan.slug, currency: choice.currency, returningTo: returnPath)
        let priceText = priceText(choice, edition: edition)
        let (binding, newCookie) = csrf.binding(for: req, session: req.signedIn?.sessionToken)
        let model: FormPageModel
        if let signedIn = req.signedIn {
            if signedIn.viewer == .paidMember { return req.redirect(to: returnPath, redirectType: .normal) }
            model = FormPageModel(
                layout: pages.personalLayout(edition: edition, title: edition.text("checkout_title", ["plan": choice.plan.name(in: edition)]), access: signedIn.viewer.accessLevel),
                title: edition.text("checkout_title", ["plan": choice.plan.name(in: edition)]),
                intro: [priceText, edition.text("checkout_intro", ["email": signedIn.member.email])] + (billing.isTestMode ? [edition.text("billing_test_mode")] : []),
                error: nil, action: urls.checkout, fields: [],
                hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding)), .init(name: "plan", value: choice.plan.slug),
                         .init(name: "currency", value: choice.currency), .init(name: "return", value: returnPath)],
                submitLabel: edition.text("checkout_submit"),
                links: [.init(label: edition.text("checkout_other_plan"), url: urls.plans(returningTo: returnPath))]
            )
        } else {
            model = FormPageModel(
                layout: pages.personalLayout(edition: edition, title: edition.text("checkout_title", ["plan": choice.plan.name(in: edition)])),
                title: edition.text("checkout_title", ["plan": choice.plan.name(in: edition)]),
                intro: [priceText, edition.text("checkout_signin_intro", ["site": settings.siteName])],
                error: nil, action: MemberURL(edition: edition).join,
                fields: [.init(label: edition.text("form_email"), name: "email", type: "email", autocomplete: "email", value: "", required: true, hint: edition.text("form_email_hint"))],
                hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding)), .init(name: "return", value: here)],
                submitLabel: edition.text("checkout_signin_submit"),
                links: [.init(label: edition.text("checkout_other_plan"), url: urls.plans(returningTo: returnPath))]
            )
        }
        let response = try pages.personalResponse("form", model)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    func checkout(_ req: Request, edition: Edition) async throws -> Response {
        let form = try req.content.decode(CheckoutForm.self)
        let returnPath = MemberURL.safeReturnPath(form.return, fallback: SiteURL(edition: edition).home)
        let choice = try await chosenPrice(req, edition: edition, from: form.plan, form.currency)
        guard let signedIn = req.signedIn else {
            return req.redirect(to: BillingURL(edition: edition).checkout(plan: choice.plan.slug, currency: choice.currency, returningTo: returnPath), redirectType: .normal)
        }
        if signedIn.viewer == .paidMember { return req.redirect(to: returnPath, redirectType: .normal) }
        let url: String
        do {
            url = try await billing.startCheckout(member: signedIn.member, price: choice, edition: edition, returnPath: returnPath, on: req.db, now: Date())
        } catch let error as PaymentProviderError {
            req.logger.error("billing.checkout_failed", metadata: ["error": "\(error)"])
            throw SiteError.badGateway(messageKey: "error_payment_provider")
        }
        req.logger.info("billing.checkout_started", metadata: ["member": "\(signedIn.member.id?.uuidString ?? "")", "plan": "\(choice.plan.slug)"])
        return req.redirect(to: url, redirectType: .normal)
    }

    /// The provider sends the reader back here. The provider's webhook may come before or after;
    /// the page waits a few seconds for it, then sends the reader on or says it is on its way.
    func returned(_ req: Request, edition: Edition) async throws -> Response {
        guard let signedIn = req.signedIn else {
            return req.redirect(to: MemberURL(edition: edition).signIn(returningTo: req.url.string), redirectType: .normal)
        }
        guard let id = req.query[String.self, at: "checkout"].flatMap(UUID.init(uuidString:)),
              let checkout = try await Checkout.find(id, on: req.db), checkout.$member.id == signedIn.member.id
        else { throw SiteError.notFound }
        let memberID = checkout.$member.id
        let paying = try await ProviderConfirmation.await(for: confirmationWait) {
            try await Member.find(memberID, on: req.db).flatMap { $0.viewer(at: Date()) == .paidMember ? $0 : nil }
        }
        if paying != nil {
            // This instance may still remember the reader as free for a few seconds.
            viewers.forget(token: signedIn.sessionToken)
            return req.redirect(to: checkout.returnPath, redirectType: .normal)
        }
        let model = MessagePageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("checkout_pending_title"), access: signedIn.viewer.accessLevel),
            title: edition.text("checkout_pending_title"),
            paragraphs: [edition.text("checkout_pending_text")],
            link: .init(label: edition.text("checkout_pending_again"), url: BillingURL(edition: edition).done(checkout: id))
        )
        return try pages.personalResponse("message", model, status: .accepted)
    }

    // MARK: Managing a subscription

    func manageBilling(_ req: Request, edition: Edition) async throws -> Response {
        guard let signedIn = req.signedIn else { return req.redirect(to: MemberURL(edition: edition).signIn, redirectType: .normal) }
        guard let provider = billing.provider,
              let subscription = try await billing.currentSubscription(of: try signedIn.member.requireID(), on: req.db),
              subscription.provider == provider.name
        else { return req.redirect(to: BillingURL(edition: edition).plans, redirectType: .normal) }
        do {
            let url = try await provider.billingPortalURL(customerID: subscription.providerCustomerID, returnURL: settings.publicURL + MemberURL(edition: edition).account)
            return req.redirect(to: url, redirectType: .normal)
        } catch let error as PaymentProviderError {
            req.logger.error("billing.portal_failed", metadata: ["error": "\(error)"])
            throw SiteError.badGateway(messageKey: "error_payment_provider")
        }
    }

    // MARK: Helpers

    private func chosenPrice(_ req: Request, edition: Edition, from plan: String?, _ currency: String?) async throws -> PlanPrice {
        guard let plan, plan.count <= 100, let currency, currency.count == 3,
              let price = try await PlanCatalog(database: req.db).price(planSlug: plan, currency: currency)
        else { throw SiteError.badRequest(messageKey: "error_plan_unknown") }
        return price
    }

    private func priceText(_ price: PlanPrice, edition: Edition) -> String {
        price.money.formatted(locale: Locale(identifier: edition.locale)) + " " + edition.text("plan_per_\(price.plan.interval.rawValue)")
    }

    private func returnPath(_ req: Request, edition: Edition) -> String {
        MemberURL.safeReturnPath(req.query[String.self, at: "return"], fallback: SiteURL(edition: edition).home)
    }
}

struct CheckoutForm: Content {
    let plan: String?
    let currency: String?
    let `return`: String?
}

/// Words shared by the plans page's parts.
private struct JoinTexts {
    let edition: Edition
    let settings: Settings

    var values: [String: String] { ["site": settings.siteName, "price": settings.membershipPrice] }
    var title: String { edition.text("plans_title", values) }
}
