import Fluent
import Foundation
import Vapor

/// Newsletters as readers meet them: the page listing the lists with a form to subscribe (it
/// works on cached pages, so it carries no per-reader token and relies on the `Origin` check),
/// the confirmation link, the one-click unsubscribe link, a member's choices on their account
/// page, and each send's "view in browser" page, which applies the site's access decision.
struct NewsletterController: Sendable {
    let pages: SitePages
    let csrf: CSRF
    let settings: Settings
    let links: NewsletterLinks
    let editions: EditionCatalog

    func register(on routes: any RoutesBuilder) {
        for edition in editions.all {
            let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
            group.get(.constant(NewsletterLinks.segment)) { try await listPage($0, edition: edition) }
            group.post("account", .constant(NewsletterLinks.accountSegment)) { try await setChoices($0, edition: edition) }
        }
        let newsletters = routes.grouped(.constant(NewsletterLinks.segment))
        newsletters.post(.constant(NewsletterLinks.subscribeSegment)) { try await subscribe($0) }
        newsletters.get(.constant(NewsletterLinks.confirmSegment)) { try await confirmPage($0) }
        newsletters.post(.constant(NewsletterLinks.confirmSegment)) { try await confirm($0) }
        newsletters.get(.constant(NewsletterLinks.unsubscribeSegment), ":token") { try await unsubscribePage($0) }
        newsletters.post(.constant(NewsletterLinks.unsubscribeSegment), ":token") { try await unsubscribe($0) }
        newsletters.get(.constant(NewsletterLinks.viewSegment), ":id") { try await webView($0) }
    }

    struct SubscribeForm: Content {
        var email: String?
        var name: String?
        var newsletter: [String]?
        var edition: String?
    }

    // MARK: Subscribing

    func listPage(_ req: Request, edition: Edition, error: String? = nil, form: SubscribeForm? = nil) async throws -> Response {
        let offered = try await NewsletterSubscriptions(database: req.db, now: Date()).offered()
        let chosen = Set(form?.newsletter ?? [])
        let access = req.signedIn?.viewer.accessLevel ?? .anonymous
        let ordered = offered.filter { $0.edition == edition.code } + offered.filter { $0.edition != edition.code }
        let model = NewsletterListModel(
            layout: pages.layout(edition: edition, head: PageHead(title: "\(edition.text("newsletters_title")) | \(settings.siteName)", description: edition.text("newsletters_intro", ["site": settings.siteName]), path: NewsletterLinks.page(edition: edition), bodyClass: "page-member"), access: access),
            title: edition.text("newsletters_title"),
            intro: edition.text("newsletters_intro", ["site": settings.siteName]),
            error: error,
            action: NewsletterLinks.subscribe,
            edition: edition.code,
            newsletters: ordered.map { newsletter in
                .init(slug: newsletter.slug, name: newsletter.name, description: newsletter.description,
                      lang: newsletter.edition, dir: (editions[newsletter.edition] ?? edition).direction.rawValue,
                      checked: chosen.contains(newsletter.slug) || (form == nil && ordered.count == 1))
            },
            hasNewsletters: !ordered.isEmpty,
            email: form?.email ?? "", name: form?.name ?? ""
        )
        let html = try pages.theme.render("newsletters", model)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/html; charset=utf-8")
        // No token in the form: the page is the same for every reader of an access level, and
        // a shared cache may keep the anonymous one a while.
        headers.replaceOrAdd(name: .cacheControl, value: error == nil && access == .anonymous ? "public, max-age=300" : "no-store")
        return Response(status: error == nil ? .ok : .badRequest, headers: headers, body: .init(string: html))
    }

    func subscribe(_ req: Request) async throws -> Response {
        let form = try req.content.decode(SubscribeForm.self)
        let edition = form.edition.flatMap { editions[$0] } ?? editions.defaultEdition
        guard let email = form.email.flatMap(EmailAddress.normalized) else {
            return try await listPage(req, edition: edition, error: edition.text("newsletters_error_email"), form: form)
        }
        let wanted = Set((form.newsletter ?? []).prefix(20))
        let subscriptions = NewsletterSubscriptions(database: req.db, now: Date())
        let chosen = try await subscriptions.offered().filter { wanted.contains($0.slug) }
        guard !chosen.isEmpty else {
            return try await listPage(req, edition: edition, error: edition.text("newsletters_error_none"), form: form)
        }
        let name = GiftRecipient.plain(form.name ?? "", keepingLines: false)
        guard name.unicodeScalars.count <= 100 else {
            return try await listPage(req, edition: edition, error: edition.text("newsletters_error_name"), form: form)
        }
        let names = chosen.map(\.name).joined(separator: edition.text("list_separator"))
        let values = ["site": settings.siteName, "newsletters": names]
        let mailFrom = settings.mailFrom, publicURL = settings.publicURL, siteName = settings.siteName
        let outcome = try await subscriptions.request(email: email, name: name, newsletters: chosen, clientAddress: req.clientAddress) { token in
            NoticeEmail(
                subject: edition.text("mail_newsletter_confirm_subject", values),
                paragraphs: [edition.text("mail_newsletter_confirm_text", values)],
                button: (edition.text("mail_newsletter_confirm_button", values), publicURL + NewsletterLinks.confirm(token: token)),
                footer: [edition.text("mail_newsletter_confirm_ignore", values), siteName, publicURL + "/"],
                lang: edition.code, dir: edition.direction.rawValue
            // To the address alone: a name typed into a public form is not put in anyone's inbox.
            ).message(from: mailFrom, to: .init(email: email))
        }
        if outcome == .rateLimited {
            req.logger.notice("newsletter.subscribe_limited", metadata: ["client": "\(req.clientAddress)"])
        }
        // The same answer whatever the address's state: the form tells no one who is subscribed.
        return try message(edition: edition, title: edition.text("newsletters_check_title"),
                           paragraphs: [edition.text("newsletters_check_text", ["email": email, "site": settings.siteName])], status: .ok)
    }

    func confirmPage(_ req: Request) async throws -> Response {
        let token = req.query[String.self, at: "token"] ?? ""
        let pending = try await NewsletterSubscriptions(database: req.db, now: Date()).pending(token: token)
        guard let first = pending.first else { return try invalidLink(req) }
        let edition = editions[first.newsletter.edition] ?? editions.defaultEdition
        let (binding, newCookie) = csrf.binding(for: req, session: req.signedIn?.sessionToken)
        let names = pending.map(\.newsletter.name).joined(separator: edition.text("list_separator"))
        let model = FormPageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("newsletters_confirm_title")),
            title: edition.text("newsletters_confirm_title"),
            intro: [edition.text("newsletters_confirm_text", ["newsletters": names, "email": first.email])],
            error: nil, action: NewsletterLinks.confirm, fields: [],
            hidden: [.init(name: CSRF.fieldName, value: csrf.token(for: binding)), .init(name: "token", value: token)],
            submitLabel: edition.text("newsletters_confirm_submit"), links: []
        )
        let response = try pages.personalResponse("form", model)
        if let newCookie { response.cookies[CSRF.cookieName] = settings.cookie(newCookie, for: req, maxAge: nil) }
        return response
    }

    func confirm(_ req: Request) async throws -> Response {
        let token = (try? req.content.get(String.self, at: "token")) ?? ""
        let confirmed = try await NewsletterSubscriptions(database: req.db, now: Date()).confirm(token: token)
        guard let first = confirmed.first else { return try invalidLink(req) }
        let edition = editions[first.edition] ?? editions.defaultEdition
        req.logger.info("newsletter.confirmed", metadata: ["lists": "\(confirmed.map(\.slug).joined(separator: ","))"])
        return try message(edition: edition, title: edition.text("newsletters_confirmed_title"),
                           paragraphs: [edition.text("newsletters_confirmed_text", ["newsletters": confirmed.map(\.name).joined(separator: edition.text("list_separator"))])])
    }

    // MARK: Unsubscribing

    func unsubscribePage(_ req: Request) async throws -> Response {
        guard let (subscription, newsletter) = try await linkedSubscription(req) else { return try invalidLink(req) }
        let edition = editions[newsletter.edition] ?? editions.defaultEdition
        guard subscription.status != .unsubscribed else {
            return try message(edition: edition, title: edition.text("newsletters_unsubscribed_title"), paragraphs: [edition.text("newsletters_unsubscribed_text", ["newsletter": newsletter.name])])
        }
        // No token: the signed link is the proof, and a mail client's one-click POST (RFC 8058)
        // arrives with no cookie at all.
        let model = FormPageModel(
            layout: pages.personalLayout(edition: edition, title: edition.text("newsletters_unsubscribe_title")),
            title: edition.text("newsletters_unsubscribe_title"),
            intro: [edition.text("newsletters_unsubscribe_text", ["newsletter": newsletter.name, "email": subscription.email])],
            error: nil, action: req.url.path, fields: [], hidden: [],
            submitLabel: edition.text("newsletters_unsubscribe_submit"), links: []
        )
        return try pages.personalResponse("form", model)
    }

    func unsubscribe(_ req: Request) async throws -> Response {
        guard let (subscription, newsletter) = try await linkedSubscription(req) else { return try invalidLink(req) }
        let edition = editions[newsletter.edition] ?? editions.defaultEdition
        if try await NewsletterSubscriptions(database: req.db, now: Date()).unsubscribe(try subscription.requireID()) {
            req.logger.info("newsletter.unsubscribed", metadata: ["list": "\(newsletter.slug)"])
        }
        return try message(edition: edition, title: edition.text("newsletters_unsubscribed_title"), paragraphs: [edition.text("newsletters_unsubscribed_text", ["newsletter": newsletter.name])])
    }

    private func linkedSubscription(_ req: Request) async throws -> (NewsletterSubscription, Newsletter)? {
        guard let id = links.subscription(fromUnsubscribe: req.parameters.get("token") ?? ""),
              let subscription = try await NewsletterSubscription.query(on: req.db).filter(\.$id == id).with(\.$newsletter).first()
        else { return nil }
        return (subscription, subscription.newsletter)
    }

    // MARK: A member's choices

    struct ChoicesForm: Content {
        var newsletter: [String]?
    }

    func setChoices(_ req: Request, edition: Edition) async throws -> Response {
        guard let signedIn = req.signedIn else { return req.redirect(to: MemberURL(edition: edition).signIn, redirectType: .normal) }
        let form = try req.content.decode(ChoicesForm.self)
        let subscriptions = NewsletterSubscriptions(database: req.db, now: Date())
        let wanted = Set(form.newsletter ?? [])
        let chosen = try await subscriptions.offered().filter { wanted.contains($0.slug) }.compactMap(\.id)
        try await subscriptions.setChoices(member: signedIn.member, chosen: Set(chosen))
        return req.redirect(to: MemberURL(edition: edition).account + "?newsletters=saved", redirectType: .normal)
    }

    // MARK: The web view

    func webView(_ req: Request) async throws -> Response {
        guard let id = req.parameters.get("id", as: UUID.self),
              let send = try await NewsletterSend.find(id, on: req.db), [.sending, .sent].contains(send.status),
              let newsletter = try await Newsletter.find(send.newsletterIDs.first, on: req.db)
        else { throw SiteError.notFound }
        let edition = editions[newsletter.edition] ?? editions.defaultEdition
        let access = req.signedIn?.viewer.accessLevel ?? .anonymous
        let issue = try await NewsletterIssue.compose(send, edition: edition, access: access, pages: pages, on: req.db)
        let model = NewsletterViewModel(
            layout: pages.personalLayout(edition: edition, title: send.subject, access: access),
            newsletter: newsletter.name, subject: send.subject,
            intro: send.intro.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty },
            items: issue.items.map { item in
                .init(title: item.title, dek: item.dek, url: item.url, imageURL: item.imageURL, imageAlt: item.imageAlt,
                      byline: [item.byline, item.date].filter { !$0.isEmpty }.joined(separator: " · "), badge: item.badge,
                      body: item.bodyHTML, paywall: item.paywall, readMore: issue.isDigest ? edition.text("newsletter_read_more") : nil)
            },
            subscribe: .init(label: edition.text("newsletters_title"), url: NewsletterLinks.page(edition: edition))
        )
        return try pages.personalResponse("newsletter-view", model)
    }

    // MARK: Helpers

    private func invalidLink(_ req: Request) throws -> Response {
        let edition = editions.defaultEdition
        return try message(edition: edition, title: edition.text("newsletters_link_invalid_title"), paragraphs: [edition.text("newsletters_link_invalid_text")], status: .notFound)
    }

    private func message(edition: Edition, title: String, paragraphs: [String], status: HTTPResponseStatus = .ok) throws -> Response {
        let model = MessagePageModel(layout: pages.personalLayout(edition: edition, title: title), title: title, paragraphs: paragraphs,
                                     link: .init(label: edition.text("newsletters_back_home"), url: SiteURL(edition: edition).home))
        return try pages.personalResponse("message", model, status: status)
    }
}

struct NewsletterListModel {
    struct Newsletter {
        let slug: String
        let name: String
        let description: String
        let lang: String
        let dir: String
        let checked: Bool
    }

    let layout: LayoutModel
    let title: String
    let intro: String
    let error: String?
    let action: String
    let edition: String
    let newsletters: [Newsletter]
    let hasNewsletters: Bool
    let email: String
    let name: String
}

struct NewsletterViewModel {
    struct Item {
        let title: String
        let dek: String
        let url: String
        let imageURL: String?
        let imageAlt: String
        let byline: String
        let badge: String?
        let body: String?
        let paywall: ArticlePageModel.Paywall?
        let readMore: String?
    }

    let layout: LayoutModel
    let newsletter: String
    let subject: String
    let intro: [String]
    let items: [Item]
    let subscribe: FormPageModel.Link
}
