import Fluent
import Foundation
import Vapor

/// Sign-up, sign-in, the account page and its actions. Every page here is personal, so none of
/// them is cached, and every form that changes something carries a CSRF token.
struct MembersController: Sendable {
    let pages: SitePages
    let csrf: CSRF
    let mail: MemberMail
    let settings: Settings
    let viewers: Viewers
    let billing: Billing

    func register(on routes: any RoutesBuilder, editions: EditionCatalog) {
        for edition in editions.all {
            let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
            group.get("signin") { try signInForm($0, edition: edition, joining: false) }
            group.post("signin") { try await requestLink($0, edition: edition, joining: false) }
            group.post("join") { try await requestLink($0, edition: edition, joining: true) }
            group.get("signin", "verify") { try await confirmSignInForm($0, edition: edition) }
            group.post("signin", "verify") { try await signIn($0, edition: edition) }
            group.get("account") { try await account($0, edition: edition) }
            group.post("account", "signout") { try await signOut($0, edition: edition, everywhere: false) }
            group.post("account", "signout-everywhere") { try await signOut($0, edition: edition, everywhere: true) }
            group.post("account", "delete") { try await requestDeletion($0, edition: edition) }
            group.get("account", "delete", "confirm") { try await confirmDeletionForm($0, edition: edition) }
            group.post("account", "delete", "confirm") { try await deleteAccount($0, edition: edition) }
        }
    }

    // MARK: Sign-in and sign-up by emailed link

    func signInForm(_ req: Request, edition: Edition, joining: Bool, error: String? = nil, email: String = "", name: String = "") throws -> Response {
        let urls = MemberURL(edition: edition)
        let returnPath = MemberURL.safeReturnPath(req.query[String.self, at: "return"] ?? (try? req.content.get(String.self, at: "return")), fallback: SiteURL(edition: edition).home)
        let (binding, newCookie) = anonymousBinding(req)
        let values = ["site": settings.siteName, "price": settings.membershipPrice]
        var fields: [FormPageModel.Field] = []
        if joining {
            fields.append(.init(label: edition.text("form_name"), name: "name", type: "text", autocomplete: "name", value: name, required: false, hint: nil))
        }
        fields.append(.init(label: edition.text("form_email"), name: "email", type: "email", autocomplete: "email", value: email, required: true, hint: edition.text("form_email_hint")))
        let model = FormPageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text(joining ? "join_title" : "signin_title", values)),
            title: edition.text(joining ? "join_title" : "signin_title", values),
            intro: [edition.text(joining ? "join_intro" : "signin_intro", values)],
            error: error,
            action: joining ? urls.join : urls.signIn,
            fields: fields,
            hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding)), .init(name: "return", value: returnPath)],
            submitLabel: edition.text(joining ? "join_submit" : "signin_submit"),
            links: [joining
                ? .init(label: edition.text("signin_instead"), url: urls.signIn(returningTo: returnPath))
                : .init(label: edition.text("join_instead"), url: urls.join(returningTo: returnPath))]
        )
        let response = try pages.personalResponse("form", model, status: error == nil ? .ok : .badRequest)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    func requestLink(_ req: Request, edition: Edition, joining: Bool) async throws -> Response {
        let form = try req.content.decode(LinkRequestForm.self)
        let name = String((form.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(100))
        guard let email = EmailAddress.normalized(form.email ?? "") else {
            return try signInForm(req, edition: edition, joining: joining, error: edition.text("form_email_invalid"), email: form.email ?? "", name: name)
        }
        let returnPath = MemberURL.safeReturnPath(form.return, fallback: SiteURL(edition: edition).home)
        let outcome = try await magicLinks(req).request(.init(
            email: email, name: name, purpose: .signIn, returnPath: returnPath, edition: edition, clientAddress: req.clientAddress
        ))
        switch outcome {
        case .sent:
            return try message(edition: edition, title: "signin_sent_title", paragraphs: ["signin_sent_text", "signin_sent_hint"], values: ["email": email, "minutes": "15"])
        case .rateLimited:
            let response = try message(edition: edition, title: "signin_limited_title", paragraphs: ["signin_limited_text"], status: .tooManyRequests)
            response.headers.replaceOrAdd(name: .retryAfter, value: "3600")
            return response
        }
    }

    func confirmSignInForm(_ req: Request, edition: Edition) async throws -> Response {
        guard let token = req.query[String.self, at: "token"], token.count < 100 else { return try linkFailure(.unknown, edition: edition) }
        if case .failure(let failure) = try await magicLinks(req).isRedeemable(token: token, purpose: .signIn) {
            return try linkFailure(failure, edition: edition)
        }
        let (binding, newCookie) = anonymousBinding(req)
        let model = FormPageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("verify_title", ["site": settings.siteName])),
            title: edition.text("verify_title", ["site": settings.siteName]),
            intro: [edition.text("verify_intro", ["site": settings.siteName])],
            error: nil, action: MemberURL(edition: edition).verifySignIn, fields: [],
            hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding)), .init(name: "token", value: token)],
            submitLabel: edition.text("verify_submit"), links: []
        )
        let response = try pages.personalResponse("form", model)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    func signIn(_ req: Request, edition: Edition) async throws -> Response {
        let form = try req.content.decode(TokenForm.self)
        let now = Date()
        let redeemed: MagicLinks.Redeemed
        do {
            redeemed = try await magicLinks(req).redeem(token: form.token ?? "", purpose: .signIn)
        } catch let failure as MagicLinks.RedeemFailure {
            return try linkFailure(failure, edition: edition)
        }
        let member = try await MemberAccounts(database: req.db).findOrCreate(email: redeemed.email, name: redeemed.name)
        let token = try await MemberSessions(database: req.db, now: now).create(for: member)
        req.logger.info("member.signed_in", metadata: ["member": "\(member.id?.uuidString ?? "")"])
        let response = req.redirect(to: MemberURL.safeReturnPath(redeemed.returnPath, fallback: SiteURL(edition: edition).home), redirectType: .normal)
        response.cookies[MemberSessions.cookieName] = settings.cookie(token, for: req, maxAge: Int(MemberSessions.lifetime))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    // MARK: The account page

    func account(_ req: Request, edition: Edition) async throws -> Response {
        let urls = MemberURL(edition: edition)
        guard let signedIn = req.signedIn else {
            return req.redirect(to: urls.signIn(returningTo: urls.account), redirectType: .normal)
        }
        let member = signedIn.member
        let membership = try await billing.summary(of: member, edition: edition, settings: settings, on: req.db, now: Date())
        let subscriptions = NewsletterSubscriptions(database: req.db, now: Date())
        let offered = try await subscriptions.offered()
        let subscribed = try await subscriptions.subscribed(member: member)
        let billingURLs = BillingURL(edition: edition)
        let model = AccountPageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("account_title"), access: signedIn.viewer.accessLevel),
            title: edition.text("account_title"),
            email: member.email,
            name: member.name.isEmpty ? nil : member.name,
            plan: membership.plan,
            status: membership.status,
            dateLabel: membership.dateLabel,
            date: membership.date,
            upgrade: membership.isPaying ? nil : .init(label: edition.text("account_upgrade"), url: billingURLs.plans(returningTo: urls.account)),
            upgradeText: membership.isPaying ? nil : edition.text("account_upgrade_text", ["price": settings.membershipPrice]),
            csrf: csrf.token(for: signedIn.sessionToken),
            actions: (membership.canManageBilling ? [
                .init(action: billingURLs.manageBilling, label: edition.text("account_manage_billing"), description: edition.text("account_manage_billing_text"), danger: false),
            ] : []) + [
                .init(action: urls.signOut, label: edition.text("account_signout"), description: edition.text("account_signout_text"), danger: false),
                .init(action: urls.signOutEverywhere, label: edition.text("account_signout_everywhere"), description: edition.text("account_signout_everywhere_text"), danger: false),
                .init(action: urls.requestDeletion, label: edition.text("account_delete"), description: edition.text("account_delete_text"), danger: true),
            ],
            newsletters: offered.map { newsletter in
                .init(slug: newsletter.slug, name: newsletter.name, description: newsletter.description, lang: newsletter.edition,
                      checked: newsletter.id.map(subscribed.contains) ?? false)
            },
            hasNewsletters: !offered.isEmpty,
            newslettersAction: NewsletterLinks.account(edition: edition),
            newslettersSaved: req.query[String.self, at: "newsletters"] == "saved"
        )
        return try pages.personalResponse("account", model)
    }

    func signOut(_ req: Request, edition: Edition, everywhere: Bool) async throws -> Response {
        guard let signedIn = req.signedIn else { return req.redirect(to: SiteURL(edition: edition).home, redirectType: .normal) }
        let sessions = MemberSessions(database: req.db, now: Date())
        if everywhere {
            try await sessions.revokeAll(memberID: try signedIn.member.requireID())
            viewers.forgetAll()
        } else {
            try await sessions.revoke(token: signedIn.sessionToken)
            viewers.forget(token: signedIn.sessionToken)
        }
        let response = req.redirect(to: SiteURL(edition: edition).home, redirectType: .normal)
        response.cookies[MemberSessions.cookieName] = settings.cookie("", for: req, maxAge: 0)
        return response
    }

    func requestDeletion(_ req: Request, edition: Edition) async throws -> Response {
        guard let signedIn = req.signedIn else { throw Abort(.forbidden) }
        let outcome = try await magicLinks(req).request(.init(
            email: signedIn.member.email, name: signedIn.member.name, purpose: .deleteAccount,
            returnPath: SiteURL(edition: edition).home, edition: edition, clientAddress: req.clientAddress
        ))
        guard outcome == .sent else {
            return try message(edition: edition, title: "signin_limited_title", paragraphs: ["signin_limited_text"], status: .tooManyRequests)
        }
        return try message(edition: edition, title: "delete_sent_title", paragraphs: ["delete_sent_text"], values: ["email": signedIn.member.email, "minutes": "15"])
    }

    func confirmDeletionForm(_ req: Request, edition: Edition) async throws -> Response {
        guard let token = req.query[String.self, at: "token"], token.count < 100 else { return try linkFailure(.unknown, edition: edition) }
        guard case .success(let email) = try await magicLinks(req).isRedeemable(token: token, purpose: .deleteAccount) else {
            return try linkFailure(.unknown, edition: edition)
        }
        let (binding, newCookie) = anonymousBinding(req)
        let urls = MemberURL(edition: edition)
        let model = FormPageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("delete_confirm_title")),
            title: edition.text("delete_confirm_title"),
            intro: [edition.text("delete_confirm_text", ["email": email, "site": settings.siteName])],
            error: nil, action: urls.confirmDeletion, fields: [],
            hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding)), .init(name: "token", value: token)],
            submitLabel: edition.text("delete_confirm_submit"), links: [.init(label: edition.text("delete_keep"), url: SiteURL(edition: edition).home)]
        )
        let response = try pages.personalResponse("form", model)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    func deleteAccount(_ req: Request, edition: Edition) async throws -> Response {
        let form = try req.content.decode(TokenForm.self)
        let redeemed: MagicLinks.Redeemed
        do {
            redeemed = try await magicLinks(req).redeem(token: form.token ?? "", purpose: .deleteAccount)
        } catch let failure as MagicLinks.RedeemFailure {
            return try linkFailure(failure, edition: edition)
        }
        let accounts = MemberAccounts(database: req.db)
        if let member = try await accounts.find(email: redeemed.email) {
            try await accounts.delete(member)
            viewers.forgetAll()
            req.logger.info("member.deleted", metadata: ["member": "\(member.id?.uuidString ?? "")"])
        }
        let response = try message(edition: edition, title: "delete_done_title", paragraphs: ["delete_done_text"])
        response.cookies[MemberSessions.cookieName] = settings.cookie("", for: req, maxAge: 0)
        return response
    }

    // MARK: Helpers

    private func magicLinks(_ req: Request) -> MagicLinks {
        MagicLinks(database: req.db, mail: mail, now: Date())
    }

    private func anonymousBinding(_ req: Request) -> (String, String?) {
        csrf.binding(for: req, session: req.signedIn?.sessionToken)
    }

    private func linkFailure(_ failure: MagicLinks.RedeemFailure, edition: Edition) throws -> Response {
        let key = switch failure {
        case .unknown: "link_invalid"
        case .used: "link_used"
        case .expired: "link_expired"
        }
        let model = MessagePageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("\(key)_title")),
            title: edition.text("\(key)_title"),
            paragraphs: [edition.text("\(key)_text", ["minutes": "15"])],
            link: .init(label: edition.text("signin_again"), url: MemberURL(edition: edition).signIn)
        )
        return try pages.personalResponse("message", model, status: failure == .unknown ? .notFound : .gone)
    }

    private func message(edition: Edition, title: String, paragraphs: [String], values: [String: String] = [:], status: HTTPResponseStatus = .ok) throws -> Response {
        var all = values
        all["site"] = settings.siteName
        let model = MessagePageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text(title, all)),
            title: edition.text(title, all),
            paragraphs: paragraphs.map { edition.text($0, all) },
            link: .init(label: edition.text("error_home"), url: SiteURL(edition: edition).home)
        )
        return try pages.personalResponse("message", model, status: status)
    }

}

struct LinkRequestForm: Content {
    let email: String?
    let name: String?
    let `return`: String?
}

struct TokenForm: Content {
    let token: String?
}
