import Fluent
import Foundation
import Vapor

/// Gift subscriptions as readers meet them: the form where a member buys a period for someone
/// else's address, the page the provider returns the giver to, and the emailed link where the
/// recipient redeems it (signing in as that address if they are not signed in).
struct GiftController: Sendable {
    let pages: SitePages
    let csrf: CSRF
    let billing: Billing
    let settings: Settings
    let viewers: Viewers
    let editions: EditionCatalog

    /// How long the return page waits for the provider's word before saying it is on its way.
    var confirmationWait: Duration = .seconds(5)

    func register(on routes: any RoutesBuilder) {
        for edition in editions.all {
            let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
            let gift = group.grouped(.constant(BillingURL.join), .constant(BillingURL.giftSegment))
            gift.get { try await giftForm($0, edition: edition) }
            gift.post { try await buy($0, edition: edition) }
            gift.get(.constant(BillingURL.done)) { try await returned($0, edition: edition) }
        }
        routes.get(.constant(BillingURL.giftSegment), ":token") { try await redeemPage($0) }
        routes.post(.constant(BillingURL.giftSegment), ":token") { try await redeem($0) }
    }

    struct GiftForm: Content {
        let plan: String?
        let currency: String?
        let email: String?
        let name: String?
        let message: String?
    }

    // MARK: Buying

    func giftForm(_ req: Request, edition: Edition, form: GiftForm? = nil, error: String? = nil) async throws -> Response {
        guard billing.provider != nil else { throw SiteError.notFound }
        let price = try await giftPrice(req, plan: form?.plan ?? req.query[String.self, at: "plan"], currency: form?.currency ?? req.query[String.self, at: "currency"])
        let urls = BillingURL(edition: edition)
        let values = ["site": settings.siteName, "plan": price.plan.name(in: edition), "period": edition.text("gift_period_\(price.plan.interval.rawValue)"),
                      "price": price.money.formatted(locale: Locale(identifier: edition.locale))]
        let here = "\(urls.gift)?plan=\(MemberURL.encode(price.plan.slug))&currency=\(MemberURL.encode(price.currency))"
        let (binding, newCookie) = csrf.binding(for: req, session: req.signedIn?.sessionToken)
        let hidden: [FormPageModel.Hidden] = [.init(name: CSRF.fieldName, value: csrf.token(for: binding))]
        let title = edition.text("gift_title", values)
        let model: FormPageModel
        if let signedIn = req.signedIn {
            model = FormPageModel(
                layout: pages.personalLayout(edition: edition, title: title, access: signedIn.viewer.accessLevel),
                title: title,
                intro: [edition.text("gift_intro", values), edition.text("gift_from", ["email": signedIn.member.email])] + (billing.isTestMode ? [edition.text("billing_test_mode")] : []),
                error: error, action: urls.gift,
                fields: [
                    .init(label: edition.text("gift_recipient_email"), name: "email", type: "email", autocomplete: "off", value: form?.email ?? "", required: true, hint: edition.text("gift_recipient_email_hint")),
                    .init(label: edition.text("gift_recipient_name"), name: "name", type: "text", autocomplete: "off", value: form?.name ?? "", required: false, hint: nil),
                    .init(label: edition.text("gift_message"), name: "message", type: "text", autocomplete: "off", value: form?.message ?? "", required: false,
                          hint: edition.text("gift_message_hint", ["limit": String(GiftRecipient.messageLimit)]), multiline: true),
                ],
                hidden: hidden + [.init(name: "plan", value: price.plan.slug), .init(name: "currency", value: price.currency)],
                submitLabel: edition.text("gift_submit", values),
                links: [.init(label: edition.text("checkout_other_plan"), url: urls.plans)]
            )
        } else {
            model = FormPageModel(
                layout: pages.personalLayout(edition: edition, title: title),
                title: title,
                intro: [edition.text("gift_intro", values), edition.text("gift_signin_intro", values)],
                error: nil, action: MemberURL(edition: edition).join,
                fields: [.init(label: edition.text("form_email"), name: "email", type: "email", autocomplete: "email", value: "", required: true, hint: edition.text("form_email_hint"))],
                hidden: hidden + [.init(name: "return", value: here)],
                submitLabel: edition.text("checkout_signin_submit"),
                links: [.init(label: edition.text("checkout_other_plan"), url: urls.plans)]
            )
        }
        let response = try pages.personalResponse("form", model, status: error == nil ? .ok : .badRequest)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    func buy(_ req: Request, edition: Edition) async throws -> Response {
        let form = try req.content.decode(GiftForm.self)
        guard let signedIn = req.signedIn else { return req.redirect(to: BillingURL(edition: edition).gift, redirectType: .normal) }
        let price = try await giftPrice(req, plan: form.plan, currency: form.currency)
        guard let email = form.email.flatMap(EmailAddress.normalized) else {
            return try await giftForm(req, edition: edition, form: form, error: edition.text("gift_error_email"))
        }
        let name = GiftRecipient.plain(form.name ?? "", keepingLines: false)
        let message = GiftRecipient.plain(form.message ?? "", keepingLines: true)
        // Counted in scalars: a few letters stacked with combining marks are not a short message.
        guard name.unicodeScalars.count <= 100, message.unicodeScalars.count <= GiftRecipient.messageLimit else {
            return try await giftForm(req, edition: edition, form: form, error: edition.text("gift_error_long", ["limit": String(GiftRecipient.messageLimit)]))
        }
        // Each gift emails an address the giver chose, with their words: not a way to send mail in bulk.
        let since = Date().addingTimeInterval(-86_400)
        let recent = try await Checkout.query(on: req.db).join(Gift.self, on: \Checkout.$id == \Gift.$checkout.$id)
            .filter(\.$member.$id == signedIn.member.requireID()).filter(\.$createdAt > since).count()
        guard recent < GiftRecipient.dailyLimit else {
            return try await giftForm(req, edition: edition, form: form, error: edition.text("gift_error_many", ["limit": String(GiftRecipient.dailyLimit)]))
        }
        let url: String
        do {
            url = try await billing.startGiftCheckout(
                giver: signedIn.member, price: price, recipient: GiftRecipient(email: email, name: name, message: message),
                edition: edition, on: req.db, now: Date()
            )
        } catch let error as PaymentProviderError {
            req.logger.error("billing.gift_checkout_failed", metadata: ["error": "\(error)"])
            throw SiteError.badGateway(messageKey: "error_payment_provider")
        }
        req.logger.info("billing.gift_checkout_started", metadata: ["member": "\(signedIn.member.id?.uuidString ?? "")", "plan": "\(price.plan.slug)"])
        return req.redirect(to: url, redirectType: .normal)
    }

    /// The provider sends the giver back here; the page waits a few seconds for its word.
    func returned(_ req: Request, edition: Edition) async throws -> Response {
        guard let signedIn = req.signedIn else {
            return req.redirect(to: MemberURL(edition: edition).signIn(returningTo: req.url.string), redirectType: .normal)
        }
        guard let id = req.query[String.self, at: "checkout"].flatMap(UUID.init(uuidString:)),
              let checkout = try await Checkout.find(id, on: req.db), checkout.$member.id == signedIn.member.id,
              try await Gift.query(on: req.db).filter(\.$checkout.$id == id).first() != nil
        else { throw SiteError.notFound }
        let settled = try await ProviderConfirmation.await(for: confirmationWait) {
            try await Gift.query(on: req.db).filter(\.$checkout.$id == id).filter(\.$status != .pending).first()
        }
        if let gift = settled {
            return try message(edition: edition, title: edition.text("gift_sent_title"),
                               paragraphs: [edition.text("gift_sent_text", ["recipient": gift.recipientEmail, "site": settings.siteName])],
                               link: .init(label: edition.text("gift_another"), url: BillingURL(edition: edition).gift), access: signedIn.viewer.accessLevel)
        }
        return try message(edition: edition, title: edition.text("checkout_pending_title"), paragraphs: [edition.text("gift_pending_text")],
                           link: .init(label: edition.text("checkout_pending_again"), url: BillingURL(edition: edition).giftDone(checkout: id)),
                           access: signedIn.viewer.accessLevel, status: .accepted)
    }

    // MARK: Redeeming

    func redeemPage(_ req: Request) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        let (gift, edition) = try await redeemableGift(token, on: req.db)
        guard let gift, gift.status == .paid else { return try unusable(alreadyRedeemed: gift?.status == .redeemed, edition: edition) }
        let values = ["site": settings.siteName, "giver": gift.giver, "period": edition.text("gift_period_\(gift.interval.rawValue)")]
        let signedIn = req.signedIn
        let (binding, newCookie) = csrf.binding(for: req, session: signedIn?.sessionToken)
        let title = edition.text("gift_redeem_title", values)
        var intro = [edition.text("gift_redeem_intro", values)]
        if !gift.message.isEmpty { intro += [edition.text("mail_gift_received_message", values), gift.message] }
        intro.append(edition.text("gift_redeem_account", ["email": signedIn?.member.email ?? gift.recipientEmail]))
        let model = FormPageModel(
            layout: pages.personalLayout(edition: edition, title: title, access: signedIn?.viewer.accessLevel ?? .anonymous),
            title: title, intro: intro, error: nil, action: BillingURL.redeem(token: token), fields: [],
            hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding))],
            submitLabel: edition.text("gift_redeem_submit"), links: []
        )
        let response = try pages.personalResponse("form", model)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    /// Redeems the gift for the signed-in member, or, for a reader not signed in, for the
    /// address it was sent to. The link never signs anyone in: gift emails are forwarded, and
    /// a link that did would hand the recipient's account to whoever holds it. The recipient
    /// signs in as anyone does, by a link emailed at their asking.
    func redeem(_ req: Request) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        let (found, edition) = try await redeemableGift(token, on: req.db)
        guard let found, found.status == .paid else { return try unusable(alreadyRedeemed: found?.status == .redeemed, edition: edition) }
        let now = Date()
        let member: Member
        if let signedIn = req.signedIn {
            member = signedIn.member
        } else {
            member = try await MemberAccounts(database: req.db).findOrCreate(email: found.recipientEmail, name: found.recipientName)
        }
        let gift: Gift
        do {
            gift = try await GiftRedemption(database: req.db, rules: billing.rules, now: now).redeem(token: token, for: try member.requireID())
        } catch let failure as GiftRedemption.Failure {
            return try unusable(alreadyRedeemed: failure == .alreadyRedeemed, edition: edition)
        }
        req.logger.info("billing.gift_redeemed", metadata: ["member": "\(member.id?.uuidString ?? "")", "gift": "\(gift.id?.uuidString ?? "")"])
        let dates = EditionDates(edition: edition)
        let values = ["date": dates.day((gift.accessUntil ?? now).addingTimeInterval(-1)), "site": settings.siteName, "email": member.email]
        guard let signedIn = req.signedIn else {
            return try message(
                edition: edition, title: edition.text("gift_redeemed_title"),
                paragraphs: [edition.text("gift_redeemed_text", values), edition.text("gift_redeemed_signin", values)],
                link: .init(label: edition.text("signin_title"), url: MemberURL(edition: edition).signIn(returningTo: SiteURL(edition: edition).home)), access: .anonymous
            )
        }
        viewers.forget(token: signedIn.sessionToken)
        return try message(
            edition: edition, title: edition.text("gift_redeemed_title"), paragraphs: [edition.text("gift_redeemed_text", values)],
            link: .init(label: edition.text("gift_start_reading"), url: SiteURL(edition: edition).home), access: .paid
        )
    }

    // MARK: Helpers

    /// A gift is a period of a plan: the plan asked for, else the first offered yearly plan,
    /// in the currency asked for, else the site's.
    private func giftPrice(_ req: Request, plan slug: String?, currency: String?) async throws -> PlanPrice {
        let offered = try await PlanCatalog(database: req.db).offered()
        let plan = offered.first { $0.slug == slug } ?? offered.first { $0.interval == .year } ?? offered.first
        guard let plan else { throw SiteError.notFound }
        guard let price = plan.prices.first(where: { $0.currency == currency }) ?? plan.prices.first(where: { $0.currency == settings.billing.currency }) ?? plan.prices.first
        else { throw SiteError.notFound }
        price.$plan.value = plan
        return price
    }

    private func redeemableGift(_ token: String, on database: any Database) async throws -> (Gift?, Edition) {
        guard let gift = try await GiftRedemption.gift(token: token, on: database) else { return (nil, editions.defaultEdition) }
        return (gift, editions[gift.edition] ?? editions.defaultEdition)
    }

    /// A link that gives nothing: already redeemed (say so, and offer sign-in), or not a gift at all.
    private func unusable(alreadyRedeemed: Bool, edition: Edition) throws -> Response {
        if alreadyRedeemed {
            return try message(edition: edition, title: edition.text("gift_used_title"), paragraphs: [edition.text("gift_used_text")],
                               link: .init(label: edition.text("signin_title"), url: MemberURL(edition: edition).signIn), access: .anonymous, status: .gone)
        }
        return try message(edition: edition, title: edition.text("gift_invalid_title"), paragraphs: [edition.text("gift_invalid_text")],
                           link: .init(label: edition.text("gift_start_reading"), url: SiteURL(edition: edition).home), access: .anonymous, status: .notFound)
    }

    private func message(edition: Edition, title: String, paragraphs: [String], link: FormPageModel.Link, access: AccessLevel, status: HTTPResponseStatus = .ok) throws -> Response {
        let model = MessagePageModel(layout: pages.personalLayout(edition: edition, title: title, access: access), title: title, paragraphs: paragraphs, link: link)
        return try pages.personalResponse("message", model, status: status)
    }
}
