import Fluent
import Foundation
import Vapor

/// The checkout page and billing portal of test mode, in place of Stripe's when no Stripe key
/// is set. Each says plainly that no money moves. What the reader chooses becomes the events
/// Stripe would send, applied by the same ledger as Stripe's webhooks.
struct TestModeController: Sendable {
    let pages: SitePages
    let csrf: CSRF
    let billing: Billing
    let editions: EditionCatalog

    func register(on routes: any RoutesBuilder) {
        let testMode = routes.grouped(.constant(BillingURL.testMode))
        testMode.get(.constant(BillingURL.testCheckoutSegment), ":id") { try await checkoutPage($0) }
        testMode.post(.constant(BillingURL.testCheckoutSegment), ":id") { try await pay($0) }
        testMode.get(.constant(BillingURL.testPortalSegment)) { try await portal($0) }
        testMode.post(.constant(BillingURL.testPortalSegment)) { try await changeSubscription($0) }
    }

    struct PaymentForm: Content {
        let outcome: String?
    }

    struct PortalForm: Content {
        let cancel: String?
    }

    func checkoutPage(_ req: Request, declined: Bool = false) async throws -> Response {
        let (checkout, signedIn) = try await ownCheckout(req)
        let edition = editions[checkout.edition] ?? editions.defaultEdition
        let gift = try await Gift.query(on: req.db).filter(\.$checkout.$id == checkout.requireID()).first()
        guard checkout.completedAt == nil else { return req.redirect(to: try returnURL(checkout, gift: gift, edition: edition), redirectType: .normal) }
        let plan = checkout.price.plan
        let price = checkout.price.money.formatted(locale: Locale(identifier: edition.locale))
        let title = edition.text("test_checkout_title")
        let action = BillingURL.testCheckout(try checkout.requireID())
        let token = csrf.token(for: signedIn.sessionToken)
        let model = BillingPageModel(
            layout: pages.personalLayout(edition: edition, title: title, access: signedIn.viewer.accessLevel),
            title: title,
            notice: edition.text("billing_test_mode"),
            error: declined ? edition.text("test_checkout_declined") : nil,
            details: [
                .init(term: edition.text("test_checkout_plan"), value: plan.name(in: edition)),
                .init(term: edition.text("test_checkout_price"), value: gift == nil ? price + " " + edition.text("plan_per_\(plan.interval.rawValue)") : price),
                .init(term: edition.text("account_email"), value: signedIn.member.email),
            ] + (gift.map { [.init(term: edition.text("gift_for"), value: $0.recipientEmail)] } ?? []),
            actions: [
                .init(action: action, csrf: token, fields: [.init(name: "outcome", value: "pay")], label: edition.text("test_checkout_pay"), primary: true),
                .init(action: action, csrf: token, fields: [.init(name: "outcome", value: "decline")], label: edition.text("test_checkout_decline"), primary: false),
            ],
            links: [.init(label: edition.text("test_checkout_back"), url: BillingURL(edition: edition).plans(returningTo: checkout.returnPath))]
        )
        return try pages.personalResponse("billing", model, status: declined ? .paymentRequired : .ok)
    }

    func pay(_ req: Request) async throws -> Response {
        let form = try req.content.decode(PaymentForm.self)
        let (checkout, _) = try await ownCheckout(req)
        let edition = editions[checkout.edition] ?? editions.defaultEdition
        let gift = try await Gift.query(on: req.db).filter(\.$checkout.$id == checkout.requireID()).first()
        let done = try returnURL(checkout, gift: gift, edition: edition)
        guard checkout.completedAt == nil else { return req.redirect(to: done, redirectType: .normal) }
        guard form.outcome == "pay" else { return try await checkoutPage(req, declined: true) }
        let now = Date()
        let ledger = try billing.ledger(on: req.db, now: now, logger: req.logger)
        let events = gift == nil
            ? try TestModeEvents.paid(checkout: checkout, price: checkout.price, plan: checkout.price.plan, now: now)
            : [try TestModeEvents.giftPaid(checkout: checkout, now: now)]
        for body in events {
            _ = try await ledger.apply(try BillingEvent(json: body))
        }
        return req.redirect(to: done, redirectType: .normal)
    }

    /// Where the provider would send the reader back: the gift's page or the subscription's.
    private func returnURL(_ checkout: Checkout, gift: Gift?, edition: Edition) throws -> String {
        let urls = BillingURL(edition: edition)
        return gift == nil ? urls.done(checkout: try checkout.requireID()) : urls.giftDone(checkout: try checkout.requireID())
    }

    func portal(_ req: Request) async throws -> Response {
        guard let signedIn = req.signedIn else { return req.redirect(to: MemberURL(edition: editions.defaultEdition).signIn(returningTo: BillingURL.testPortal), redirectType: .normal) }
        let edition = editions.defaultEdition
        let title = edition.text("test_portal_title")
        let subscription = try await billing.currentSubscription(of: try signedIn.member.requireID(), on: req.db)
        let dates = EditionDates(edition: edition)
        var details: [BillingPageModel.Detail] = []
        var actions: [BillingPageModel.Action] = []
        if let subscription, subscription.provider == billing.provider?.name {
            details = [
                .init(term: edition.text("test_checkout_plan"), value: subscription.plan?.name(in: edition) ?? "—"),
                .init(term: edition.text(subscription.cancelAtPeriodEnd ? "account_ends" : "account_renewal"), value: dates.day(subscription.currentPeriodEnd)),
            ]
            actions = [.init(
                action: BillingURL.testPortal, csrf: csrf.token(for: signedIn.sessionToken),
                fields: [.init(name: "cancel", value: subscription.cancelAtPeriodEnd ? "no" : "yes")],
                label: edition.text(subscription.cancelAtPeriodEnd ? "test_portal_resume" : "test_portal_cancel"), primary: false
            )]
        }
        let model = BillingPageModel(
            layout: pages.personalLayout(edition: edition, title: title, access: signedIn.viewer.accessLevel),
            title: title, notice: edition.text("billing_test_mode"), error: nil, details: details, actions: actions,
            links: [.init(label: edition.text("test_portal_back"), url: MemberURL(edition: edition).account)]
        )
        return try pages.personalResponse("billing", model)
    }

    func changeSubscription(_ req: Request) async throws -> Response {
        let form = try req.content.decode(PortalForm.self)
        guard let signedIn = req.signedIn else { throw SiteError.forbidden(messageKey: "error_csrf") }
        if let subscription = try await billing.currentSubscription(of: try signedIn.member.requireID(), on: req.db), subscription.provider == billing.provider?.name {
            let now = Date()
            let event = try TestModeEvents.cancellation(of: subscription, cancel: form.cancel == "yes", now: now)
            _ = try await billing.ledger(on: req.db, now: now, logger: req.logger).apply(try BillingEvent(json: event))
        }
        return req.redirect(to: BillingURL.testPortal, redirectType: .normal)
    }

    /// The checkout the path names, which must be the signed-in reader's own: anyone else gets a 404.
    private func ownCheckout(_ req: Request) async throws -> (Checkout, SignedInViewer) {
        guard let signedIn = req.signedIn,
              let id = req.parameters.get("id", as: UUID.self),
              let checkout = try await Checkout.query(on: req.db).filter(\.$id == id).with(\.$price, { $0.with(\.$plan) }).first(),
              checkout.$member.id == signedIn.member.id
        else { throw SiteError.notFound }
        return (checkout, signedIn)
    }
}
