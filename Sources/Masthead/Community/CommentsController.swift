import Fluent
import Foundation
import Vapor

/// An article's discussion: its own page for readers without script, and the same list as a
/// fragment that the article page fetches after it loads, so that the cached article page stays
/// the same for everyone. Both are made for one reader and never cached. Members write, reply,
/// edit (for five minutes), delete and report through plain forms.
struct CommentsController: Sendable {
    let pages: SitePages
    let csrf: CSRF

    static let segment = "comments"

    /// The discussion of an article: one address for every edition, by the article's id.
    static func page(_ articleID: UUID) -> String { "/\(segment)/\(articleID.uuidString.lowercased())" }
    static func fragment(_ articleID: UUID) -> String { page(articleID) + "?fragment=1" }

    func register(on routes: any RoutesBuilder) {
        let comments = routes.grouped(PathComponent(stringLiteral: Self.segment), ":article")
        let text = HTTPBodyStreamStrategy.collect(maxSize: "64kb")
        comments.get { try await show($0) }
        comments.on(.POST, body: text) { try await post($0) }
        comments.on(.POST, ":comment", "edit", body: text) { try await edit($0) }
        comments.post(":comment", "delete") { try await delete($0) }
        comments.post(":comment", "report") { try await report($0) }
    }

    func show(_ req: Request, form: (text: String, replyTo: UUID?)? = nil, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let article = try await publishedArticle(req)
        let edition = pages.theme.editions[article.edition] ?? pages.theme.editions.defaultEdition
        let articleID = try article.requireID()
        let viewer = req.viewer
        let member = req.signedIn?.member
        let mayRead = AccessPolicy.mayReadComments(on: article, viewer: viewer)
        let thread = mayRead ? try await CommentThread.load(article: articleID, for: member?.id, on: req.db) : CommentThread(entries: [], count: 0)
        let settings = pages.settings.live.current
        var refusal: String?
        if let member {
            do {
                try await CommentDesk(database: req.db, settings: settings, now: Date()).checkMayComment(on: article, member: member, viewer: viewer)
            } catch let refused as CommentDesk.Refusal {
                refusal = refused.messageKey
            }
        }
        let fragment = req.query[String.self, at: "fragment"] == "1"
        let editing = req.query[UUID.self, at: "edit"]
        let model = CommentsPageModel(
            layout: fragment ? nil : pages.personalLayout(edition: edition, title: edition.text("comments_page_title", ["title": article.title]), access: viewer.accessLevel),
            thread: thread, article: article, edition: edition, member: member, mayRead: mayRead,
            mayWrite: member != nil && refusal == nil, refusal: refusal.map { edition.text($0) },
            signInURL: member == nil ? MemberURL(edition: edition).signIn(returningTo: SiteURL(edition: edition).article(article.slug) + "#comments") : nil,
            joinURL: member != nil && !mayRead ? BillingURL(edition: edition).plans(returningTo: SiteURL(edition: edition).article(article.slug)) : nil,
            csrf: req.signedIn.map { csrf.token(for: $0.sessionToken) } ?? "",
            from: fragment ? "article" : "page", editing: editing, form: form, error: error,
            notice: req.query[String.self, at: "done"].flatMap { ["posted": "comments_posted", "held": "comments_held", "reported": "comments_reported", "deleted": "comments_deleted_notice", "saved": "comments_saved"][$0] }.map { edition.text($0) },
            now: Date()
        )
        return try pages.personalResponse(fragment ? "partials/comments" : "comments", model, status: status)
    }

    func post(_ req: Request) async throws -> Response {
        let (article, member) = try await writer(req)
        let form = try req.content.decode([String: String].self)
        let replyTo = form["parent"].flatMap(UUID.init(uuidString:))
        do {
            let (comment, posted) = try await desk(req).post(on: article, replyingTo: replyTo, text: form["text"] ?? "", by: member, viewer: req.viewer)
            return back(req, article, form: form, anchor: comment.id, done: posted == .visible ? "posted" : "held")
        } catch let refused as CommentDesk.Refusal {
            let edition = pages.theme.editions[article.edition] ?? pages.theme.editions.defaultEdition
            return try await show(req, form: (form["text"] ?? "", replyTo), error: edition.text(refused.messageKey), status: refused.tooMany ? .tooManyRequests : .unprocessableEntity)
        }
    }

    func edit(_ req: Request) async throws -> Response {
        let (article, member) = try await writer(req)
        let form = try req.content.decode([String: String].self)
        let commentID = try commentID(req)
        do {
            let comment = try await desk(req).edit(commentID, on: article, text: form["text"] ?? "", by: member, viewer: req.viewer)
            return back(req, article, form: form, anchor: comment.id, done: comment.status == .visible ? "saved" : "held")
        } catch let refused as CommentDesk.Refusal {
            let edition = pages.theme.editions[article.edition] ?? pages.theme.editions.defaultEdition
            return try await show(req, error: edition.text(refused.messageKey), status: .unprocessableEntity)
        }
    }

    func delete(_ req: Request) async throws -> Response {
        let (article, member) = try await writer(req)
        do {
            try await desk(req).delete(try commentID(req), on: article, by: member)
        } catch is CommentDesk.Refusal {
            throw SiteError.notFound
        }
        return back(req, article, form: (try? req.content.decode([String: String].self)) ?? [:], anchor: nil, done: "deleted")
    }

    func report(_ req: Request) async throws -> Response {
        let (article, member) = try await writer(req)
        do {
            try await desk(req).report(try commentID(req), on: article, by: member, viewer: req.viewer)
        } catch is CommentDesk.Refusal {
            throw SiteError.notFound
        }
        return back(req, article, form: (try? req.content.decode([String: String].self)) ?? [:], anchor: nil, done: "reported")
    }

    /// After a form: back to the article's discussion where the reader was, on the article
    /// (its script shows the discussion) or on the discussion's own page.
    private func back(_ req: Request, _ article: Article, form: [String: String], anchor: UUID?, done: String) -> Response {
        let edition = pages.theme.editions[article.edition] ?? pages.theme.editions.defaultEdition
        let target = anchor.map { "#comment-\($0.uuidString.lowercased())" } ?? "#comments"
        let path = form["from"] == "article" ? SiteURL(edition: edition).article(article.slug) : Self.page(article.id!) + "?done=\(done)"
        let response = req.redirect(to: path + target, redirectType: .normal)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    private func desk(_ req: Request) -> CommentDesk {
        CommentDesk(database: req.db, settings: pages.settings.live.current, now: Date())
    }

    /// The article and the signed-in member a form comes from; anyone else is sent to sign in.
    private func writer(_ req: Request) async throws -> (Article, Member) {
        let article = try await publishedArticle(req)
        guard let member = req.signedIn?.member else { throw Abort.redirect(to: Self.page(article.id!)) }
        return (article, member)
    }

    private func publishedArticle(_ req: Request) async throws -> Article {
        guard let id = req.parameters.get("article", as: UUID.self), let article = try await Article.find(id, on: req.db),
              article.status == .published, (article.publishedAt ?? .distantFuture) <= Date()
        else { throw SiteError.notFound }
        return article
    }

    private func commentID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("comment", as: UUID.self) else { throw SiteError.notFound }
        return id
    }
}
