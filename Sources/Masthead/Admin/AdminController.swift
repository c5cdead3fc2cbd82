import Fluent
import Foundation
import Vapor

/// The editors' admin: sign-in and the article list. Every page needs a staff session, every
/// form a CSRF token, and nothing here is cached.
struct AdminController: Sendable {
    let pages: SitePages
    let csrf: CSRF
    let settings: Settings

    struct SignInForm: Content {
        let email: String?
        let password: String?
        let csrf: String?
    }

    struct ArticleRow {
        let title: String
        let edition: String
        let kind: String
        let status: String
        let visibility: String
        let authors: String
        let date: String
        let url: String?
    }

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    struct ArticlesPage {
        let layout: LayoutModel
        let staffName: String
        let role: String
        let csrf: String
        let query: String
        let statuses: [Option]
        let kinds: [Option]
        let editions: [Option]
        let rows: [ArticleRow]
        let count: Int
    }

    struct SignInPage {
        let layout: LayoutModel
        let csrf: String
        let email: String
        let error: String?
    }

    /// Admin cookies are SameSite=Strict and scoped to /admin: the admin is never entered
    /// with a session from another site's link.
    func register(on routes: any RoutesBuilder) {
        let admin = routes.grouped("admin")
        admin.get("signin") { try signInForm($0) }
        admin.post("signin") { try await signIn($0) }
        admin.post("signout") { try await signOut($0) }
        admin.get { try await articles($0) }
    }

    func signInForm(_ req: Request, email: String = "", error: String? = nil, status: HTTPResponseStatus = .ok) throws -> Response {
        let (binding, fresh) = csrf.binding(for: req, session: nil)
        let response = try render("admin/signin", SignInPage(
            layout: layout("Sign in to the admin"), csrf: csrf.token(for: binding), email: email, error: error
        ), status: status)
        if let fresh { response.cookies[CSRF.cookieName] = settings.cookie(fresh, maxAge: nil) }
        return response
    }

    func signIn(_ req: Request) async throws -> Response {
        let form = try req.content.decode(SignInForm.self)
        guard csrf.originIsAcceptable(req), csrf.isValid(form.csrf, binding: req.cookies[CSRF.cookieName]?.string) else {
            throw SiteError.forbidden(messageKey: "error_csrf")
        }
        let outcome = try await StaffSignIn(database: req.db, now: Date()).signIn(email: form.email ?? "", password: form.password ?? "") {
            try await req.password.async.verify($0, created: $1)
        }
        switch outcome {
        case .signedIn(let token):
            let response = req.redirect(to: "/admin", redirectType: .normal)
            response.cookies[StaffSignIn.cookieName] = settings.cookie(token, path: "/admin", maxAge: Int(StaffSignIn.sessionLifetime), sameSite: .strict)
            return response
        case .refused:
            return try signInForm(req, email: form.email ?? "", error: "That email address and password do not match an account.", status: .unauthorized)
        case .locked:
            return try signInForm(req, email: form.email ?? "", error: "Too many failed attempts: this account is locked for 15 minutes.", status: .tooManyRequests)
        }
    }

    func signOut(_ req: Request) async throws -> Response {
        guard let token = req.cookies[StaffSignIn.cookieName]?.string else { return req.redirect(to: "/admin/signin", redirectType: .normal) }
        let form = try req.content.decode(SignInForm.self)
        guard csrf.originIsAcceptable(req), csrf.isValid(form.csrf, binding: token) else { throw SiteError.forbidden(messageKey: "error_csrf") }
        try await StaffSignIn(database: req.db, now: Date()).signOut(token: token)
        let response = req.redirect(to: "/admin/signin", redirectType: .normal)
        response.cookies[StaffSignIn.cookieName] = settings.cookie("", path: "/admin", maxAge: 0, sameSite: .strict)
        return response
    }

    func articles(_ req: Request) async throws -> Response {
        guard let token = req.cookies[StaffSignIn.cookieName]?.string, token.count < 100,
              let staff = try await StaffSignIn(database: req.db, now: Date()).staff(forToken: token)
        else { return req.redirect(to: "/admin/signin", redirectType: .normal) }
        let status = req.query[String.self, at: "status"].flatMap(ArticleStatus.init(rawValue:))
        let kind = req.query[String.self, at: "kind"].flatMap(ArticleKind.init(rawValue:))
        let edition = req.query[String.self, at: "edition"].flatMap { pages.theme.editions[$0]?.code }
        let text = String((req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(200))

        var query = Article.query(on: req.db).with(\.$authorCredits) { $0.with(\.$author) }
        if let status { query = query.filter(\.$status == status) }
        if let kind { query = query.filter(\.$kind == kind) }
        if let edition { query = query.filter(\.$edition == edition) }
        let candidates = try await query.sort(\.$publishedAt, .descending).all()
        // Titles are searched here rather than in SQL, so the match ignores case the same way
        // for Arabic on SQLite and PostgreSQL; full-text search replaces this with the Search issue.
        let matching = text.isEmpty ? candidates : candidates.filter { $0.title.localizedCaseInsensitiveContains(text) }
        let dates = EditionDates(edition: pages.theme.editions.defaultEdition)
        let page = ArticlesPage(
            layout: layout("Articles"),
            staffName: staff.name, role: staff.role.rawValue, csrf: csrf.token(for: token), query: text,
            statuses: options(ArticleStatus.allCases.map(\.rawValue), selected: status?.rawValue),
            kinds: options(ArticleKind.allCases.map(\.rawValue), selected: kind?.rawValue),
            editions: options(pages.theme.editions.all.map(\.code), selected: edition),
            rows: matching.prefix(200).map { article in
                ArticleRow(
                    title: article.title, edition: article.edition, kind: article.kind.rawValue,
                    status: article.status.rawValue, visibility: article.visibility.rawValue,
                    authors: article.bylineAuthors.map(\.name).joined(separator: ", "),
                    date: article.publishedAt.map(dates.day) ?? "",
                    url: article.status == .published ? pages.theme.editions[article.edition].map { SiteURL(edition: $0).article(article.slug) } : nil
                )
            },
            count: matching.count
        )
        return try render("admin/articles", page)
    }

    private func options(_ values: [String], selected: String?) -> [Option] {
        values.map { Option(value: $0, label: $0.capitalized, selected: $0 == selected) }
    }

    private func layout(_ title: String) -> LayoutModel {
        pages.layout(edition: pages.theme.editions.defaultEdition, head: PageHead(
            title: "\(title) | \(settings.siteName) admin", description: title, path: "", bodyClass: "page-admin"
        ))
    }

    private func render(_ template: String, _ model: Any, status: HTTPResponseStatus = .ok) throws -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/html; charset=utf-8")
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: try pages.theme.render(template, model)))
    }
}
