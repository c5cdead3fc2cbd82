import Fluent
import Foundation
import Vapor

/// The admin's front door: sign-in, sign-out and the article list with its filters.
struct AdminController: Sendable {
    let admin: AdminPages
    let csrf: CSRF
    let settings: Settings
    let catalog: SearchCatalog

    struct SignInForm: Content {
        let email: String?
        let password: String?
        let code: String?
    }

    struct ArticleRow {
        let title: String
        let edition: String
        let kind: String
        let status: String
        let visibility: String
        let authors: String
        let date: String
        let editURL: String
        let publicURL: String?
    }

    struct ArticlesPage {
        let layout: AdminPages.Layout
        let notice: String?
        let query: String
        let statuses: [Option]
        let kinds: [Option]
        let editions: [Option]
        let authors: [Option]
        let topics: [Option]
        let rows: [ArticleRow]
        let count: Int
        let newerURL: String?
        let olderURL: String?
        let newArticleURL = AdminURL.newArticle
        let filterAction = AdminURL.home
    }

    static let pageSize = 50

    struct SignInPage {
        let layout: AdminPages.Layout
        let csrf: String
        let email: String
        let error: String?
        let notice: String?
        let askForCode: Bool
        let action = AdminURL.signIn
        let resetURL = AdminURL.reset
    }

    /// Admin cookies are SameSite=Strict and scoped to /admin: the admin is never entered
    /// with a session from another site's link.
    func register(public routes: any RoutesBuilder, signedIn: any RoutesBuilder) {
        routes.get(AdminURL.Segment.signIn) { try signInForm($0) }
        routes.post(AdminURL.Segment.signIn) { try await signIn($0) }
        signedIn.post(AdminURL.Segment.signOut) { try await signOut($0) }
        signedIn.get { try await articles($0) }
    }

    func signInForm(_ req: Request, email: String = "", error: String? = nil, askForCode: Bool = false, status: HTTPResponseStatus = .ok) throws -> Response {
        let (binding, fresh) = csrf.binding(for: req, session: nil)
        let notice = req.query[String.self, at: "notice"] == "password-set" ? "Your password is set. Sign in with it now." : nil
        let response = try admin.render("admin/signin", SignInPage(
            layout: admin.layout("Sign in", for: req), csrf: csrf.token(for: binding), email: email,
            error: error, notice: notice, askForCode: askForCode
        ), status: status)
        if let fresh { response.cookies[CSRF.cookieName] = settings.cookie(fresh, for: req, maxAge: nil) }
        return response
    }

    func signIn(_ req: Request) async throws -> Response {
        let form = try req.content.decode(SignInForm.self)
        let email = form.email ?? ""
        let outcome = try await StaffSignIn(database: req.db, now: Date()).signIn(
            email: email, password: form.password ?? "", code: form.code, clientAddress: req.clientAddress
        ) {
            try await req.password.async.verify($0, created: $1)
        }
        switch outcome {
        case .signedIn(let token):
            let response = req.redirect(to: AdminURL.home, redirectType: .normal)
            response.cookies[StaffSignIn.cookieName] = settings.cookie(token, for: req, path: AdminURL.root, maxAge: Int(StaffSignIn.sessionLifetime), sameSite: .strict)
            return response
        case .needsCode:
            return try signInForm(req, email: email, error: form.code == nil ? nil : "That code is not right, or has expired. Enter the current code from your app.", askForCode: true, status: form.code == nil ? .ok : .unauthorized)
        case .refused:
            return try signInForm(req, email: email, error: "That email address and password do not match an account.", status: .unauthorized)
        case .locked:
            return try signInForm(req, email: email, error: "Too many failed attempts from your address: try again in 15 minutes, or choose a new password through “Forgotten your password?”.", status: .tooManyRequests)
        }
    }

    func signOut(_ req: Request) async throws -> Response {
        if let token = req.staffSessionToken {
            try await StaffSignIn(database: req.db, now: Date()).signOut(token: token)
        }
        let response = req.redirect(to: AdminURL.signIn, redirectType: .normal)
        response.cookies[StaffSignIn.cookieName] = settings.cookie("", for: req, path: AdminURL.root, maxAge: 0, sameSite: .strict)
        return response
    }

    func articles(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let status = req.query[String.self, at: "status"].flatMap(ArticleStatus.init(rawValue:))
        let kind = req.query[String.self, at: "kind"].flatMap(ArticleKind.init(rawValue:))
        let edition = req.query[String.self, at: "edition"].flatMap { admin.theme.editions[$0]?.code }
        let authorID = req.query[String.self, at: "author"].flatMap(UUID.init(uuidString:))
        let topicID = req.query[String.self, at: "topic"].flatMap(UUID.init(uuidString:))
        let text = String((req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(200))
        let pageNumber = max(1, min(req.query[Int.self, at: "page"] ?? 1, 100_000))

        var query = Article.query(on: req.db).with(\.$authorCredits) { $0.with(\.$author) }
        if let status { query = query.filter(\.$status == status) }
        if let kind { query = query.filter(\.$kind == kind) }
        if let edition { query = query.filter(\.$edition == edition) }
        if let authorID {
            query = query.join(ArticleAuthor.self, on: \Article.$id == \ArticleAuthor.$article.$id)
                .filter(ArticleAuthor.self, \.$author.$id == authorID)
        }
        if let topicID {
            query = query.join(ArticleTopic.self, on: \Article.$id == \ArticleTopic.$article.$id)
                .filter(ArticleTopic.self, \.$topic.$id == topicID)
        }
        if let words = try? SearchQuery(text), !words.isEmpty {
            let ids = try await Search(database: req.db, catalog: catalog, now: Date()).staffMatches(words, role: staff.role)
            query = query.filter(\.$id ~~ ids)
        }
        let count = try await query.count()
        let shown = try await query.sort(\.$updatedAt, .descending)
            .range(((pageNumber - 1) * Self.pageSize)..<(pageNumber * Self.pageSize)).all()
        let dates = admin.clock
        let authors = try await Author.query(on: req.db).sort(\.$name).all()
        let topics = try await Topic.query(on: req.db).with(\.$names).sort(\.$slug).all()
        let page = ArticlesPage(
            layout: admin.layout("Articles", for: req, current: AdminURL.home),
            notice: req.query[String.self, at: "done"] == "deleted" ? "The draft is deleted." : nil,
            query: text,
            statuses: AdminPages.options(ArticleStatus.allCases.map(\.rawValue), selected: status?.rawValue),
            kinds: AdminPages.options(ArticleKind.allCases.map(\.rawValue), selected: kind?.rawValue),
            editions: AdminPages.options(admin.theme.editions.all.map(\.code), selected: edition),
            authors: authors.map { Option(value: $0.id?.uuidString ?? "", label: $0.name, selected: $0.id == authorID) },
            topics: topics.map { Option(value: $0.id?.uuidString ?? "", label: $0.name(in: "en"), selected: $0.id == topicID) },
            rows: shown.map { article in
                ArticleRow(
                    title: article.title, edition: article.edition, kind: article.kind.rawValue,
                    status: article.status.rawValue, visibility: article.visibility.rawValue,
                    authors: article.bylineAuthors.map(\.name).joined(separator: ", "),
                    date: article.publishedAt.map(dates.dayAndTime) ?? "",
                    editURL: AdminURL.article(article.id!),
                    publicURL: article.status == .published ? admin.theme.editions[article.edition].map { SiteURL(edition: $0).article(article.slug) } : nil
                )
            },
            count: count,
            newerURL: pageNumber > 1 ? pageURL(req, pageNumber - 1) : nil,
            olderURL: count > pageNumber * Self.pageSize ? pageURL(req, pageNumber + 1) : nil
        )
        return try admin.render("admin/articles", page)
    }

    /// This list's address with the same filters, at another page.
    private func pageURL(_ req: Request, _ number: Int) -> String {
        var components = URLComponents()
        components.queryItems = (URLComponents(string: req.url.string)?.queryItems ?? []).filter { $0.name != "page" }
            + [URLQueryItem(name: "page", value: String(number))]
        return AdminURL.home + (components.string ?? "")
    }
}
