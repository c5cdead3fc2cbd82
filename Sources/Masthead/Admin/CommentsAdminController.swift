import Fluent
import Foundation
import Vapor

/// Comment moderation: the comments waiting for a moderator (first comments, and those with a
/// listed word), those readers reported, and the latest; per article, its comments and whether
/// it takes them; and the defaults (kinds closed, the word list).
struct CommentsAdminController: Sendable {
    let admin: AdminPages
    let liveSettings: LiveSiteSettings

    struct Row {
        let author: String
        let memberURL: String
        let article: String
        let articleURL: String
        let time: String
        let html: String
        let status: String
        let reports: Int
        let hasReports: Bool
        let isReply: Bool
        let actions: [Action]
        let banAction: String
        let banLabel: String
    }

    struct Action {
        let url: String
        let label: String
    }

    struct Section {
        let title: String
        let id: String
        let rows: [Row]
        let empty: String
        let hasRows: Bool
    }

    struct KindChoice {
        let value: String
        let label: String
        let closed: Bool
    }

    struct ArticleChoice {
        let title: String
        let action: String
        let options: [Option]
    }

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    struct ModerationPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let error: String?
        let returnTo: String
        let article: ArticleChoice?
        let sections: [Section]
        let settingsAction: String
        let kinds: [KindChoice]
        let words: String
    }

    func register(on routes: any RoutesBuilder) {
        let comments = routes.grouped(AdminURL.Segment.comments)
        comments.get { try await page($0) }
        comments.on(.POST, AdminURL.Segment.settings, body: .collect(maxSize: "256kb")) { try await saveDefaults($0) }
        comments.post(AdminURL.Segment.members, ":member", AdminURL.Segment.ban) { try await ban($0, barred: true) }
        comments.post(AdminURL.Segment.members, ":member", AdminURL.Segment.unban) { try await ban($0, barred: false) }
        comments.post(":comment", ":action") { try await moderate($0) }
        routes.post(AdminURL.Segment.articles, ":id", AdminURL.Segment.comments) { try await choose($0) }
    }

    private static let notices = [
        "approve": "Approved: it is up.", "hide": "Hidden from readers.", "restore": "Back up.", "delete": "Deleted.",
        "dismiss": "Reports cleared.", "ban": "The member can no longer comment.", "unban": "The member can comment again.",
        "settings": "Comment settings saved.", "choice": "Saved for this article.",
    ]

    func page(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        _ = try req.requireStaff(.moderateComments)
        let articleID = req.query[UUID.self, at: "article"]
        var article: Article?
        if let articleID {
            guard let found = try await Article.find(articleID, on: req.db) else { throw SiteError.notFound }
            article = found
        }
        func scoped(_ query: QueryBuilder<Comment>) -> QueryBuilder<Comment> {
            articleID.map { query.filter(\.$articleID == $0) } ?? query
        }
        let pending = try await scoped(Comment.query(on: req.db)).filter(\.$status == .pending).sort(\.$createdAt).range(..<200).all()
        let reported = try await scoped(Comment.query(on: req.db)).filter(\.$reports > 0).filter(\.$status == .visible).sort(\.$reports, .descending).range(..<200).all()
        let latest = try await scoped(Comment.query(on: req.db)).filter(\.$status ~~ [.visible, .hidden]).sort(\.$createdAt, .descending).range(..<(articleID == nil ? 100 : 500)).all()
        let all = pending + reported + latest
        let articles = try await Article.query(on: req.db).filter(\.$id ~~ Set(all.map(\.articleID))).all().reduce(into: [UUID: Article]()) { $0[$1.id!] = $1 }
        let emails = try await Member.query(on: req.db).filter(\.$id ~~ Set(all.map(\.memberID))).all()
            .reduce(into: [UUID: String]()) { $0[$1.id!] = $1.email }
        let barredAddresses = Set(try await CommentBan.query(on: req.db).filter(\.$id ~~ Set(emails.values)).all().compactMap(\.id))
        let bans = Set(emails.filter { barredAddresses.contains($0.value) }.keys)
        let returnTo = articleID.map { AdminURL.commentsOf($0) } ?? AdminURL.comments
        func rows(_ comments: [Comment]) -> [Row] {
            comments.map { row($0, article: articles[$0.articleID], banned: bans.contains($0.memberID)) }
        }
        let settings = liveSettings.current
        let closedKinds = Set(settings.commentsClosedKinds ?? [])
        return try admin.render("admin/comments", ModerationPage(
            layout: admin.layout(article.map { "Comments: \($0.title)" } ?? "Comments", for: req, current: AdminURL.comments),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { Self.notices[$0] },
            error: error,
            returnTo: returnTo,
            article: try article.map { article in
                ArticleChoice(title: article.title, action: AdminURL.articleComments(try article.requireID()), options: [
                    .init(value: CommentsChoice.byKind.rawValue, label: "As its kind (\(closedKinds.contains(article.kind.rawValue) ? "closed" : "open") for \(article.kind.rawValue))", selected: article.comments == .byKind),
                    .init(value: CommentsChoice.open.rawValue, label: "Open", selected: article.comments == .open),
                    .init(value: CommentsChoice.closed.rawValue, label: "Closed", selected: article.comments == .closed),
                ])
            },
            sections: [
                Section(title: "Waiting for a moderator", id: "pending", rows: rows(pending), empty: "Nothing is waiting.", hasRows: !pending.isEmpty),
                Section(title: "Reported by readers", id: "reported", rows: rows(reported), empty: "No reports.", hasRows: !reported.isEmpty),
                Section(title: "Latest", id: "latest", rows: rows(latest), empty: "No comments yet.", hasRows: !latest.isEmpty),
            ],
            settingsAction: AdminURL.commentSettings,
            kinds: ArticleKind.allCases.map { KindChoice(value: $0.rawValue, label: $0.rawValue.capitalized, closed: closedKinds.contains($0.rawValue)) },
            words: (settings.commentWords ?? []).joined(separator: "\n")
        ), status: status)
    }

    private func row(_ comment: Comment, article: Article?, banned: Bool) -> Row {
        let id = comment.id!
        var actions: [Action] = []
        switch comment.status {
        case .pending: actions = [.init(url: AdminURL.moderate(id, .approve), label: "Approve"), .init(url: AdminURL.moderate(id, .hide), label: "Hide")]
        case .visible: actions = [.init(url: AdminURL.moderate(id, .hide), label: "Hide")]
        case .hidden: actions = [.init(url: AdminURL.moderate(id, .restore), label: "Put back")]
        case .deleted: actions = []
        }
        if comment.reports > 0 { actions.append(.init(url: AdminURL.moderate(id, .dismiss), label: "Clear reports")) }
        if comment.status != .deleted { actions.append(.init(url: AdminURL.moderate(id, .delete), label: "Delete")) }
        return Row(
            author: (comment.authorName.isEmpty ? "(no name)" : comment.authorName) + (comment.badge.map { " (\($0.rawValue))" } ?? ""),
            memberURL: AdminURL.member(comment.memberID),
            article: article?.title ?? "(deleted article)",
            articleURL: CommentsController.page(comment.articleID) + "#comment-\(id.uuidString.lowercased())",
            time: admin.clock.dayAndTime(comment.createdAt),
            html: CommentText.html(comment.body),
            status: comment.status.rawValue,
            reports: comment.reports,
            hasReports: comment.reports > 0,
            isReply: comment.parentID != nil,
            actions: actions,
            banAction: banned ? AdminURL.unbanCommenter(comment.memberID) : AdminURL.banCommenter(comment.memberID),
            banLabel: banned ? "Allow to comment again" : "Bar from commenting"
        )
    }

    func moderate(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.moderateComments)
        guard let id = req.parameters.get("comment", as: UUID.self),
              let action = req.parameters.get("action").flatMap(CommentModeration.Action.init(rawValue:))
        else { throw SiteError.notFound }
        try await CommentModeration(database: req.db, now: Date()).apply(action, to: id, by: staff)
        return back(req, done: action.rawValue)
    }

    func ban(_ req: Request, barred: Bool) async throws -> Response {
        let staff = try req.requireStaff(.moderateComments)
        guard let member = req.parameters.get("member", as: UUID.self) else { throw SiteError.notFound }
        let moderation = CommentModeration(database: req.db, now: Date())
        if barred { try await moderation.ban(member, by: staff) } else { try await moderation.unban(member, by: staff) }
        return back(req, done: barred ? "ban" : "unban")
    }

    func choose(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.moderateComments)
        let article = try await req.record(Article.self)
        guard let choice = (try? req.content.get(String.self, at: "comments")).flatMap(CommentsChoice.init(rawValue:)) else {
            return try await page(req, error: "Choose open, closed or as its kind.", status: .unprocessableEntity)
        }
        try await CommentModeration(database: req.db, now: Date()).setChoice(choice, for: article, by: staff)
        return req.redirect(to: AdminURL.commentsOf(try article.requireID()) + "&done=choice", redirectType: .normal)
    }

    func saveDefaults(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.moderateComments)
        struct Form: Content {
            var closed: [String]?
            var words: String?
        }
        let form = try req.content.decode(Form.self)
        let kinds = (form.closed ?? []).compactMap(ArticleKind.init(rawValue:))
        let words = (form.words ?? "").split(whereSeparator: { $0.isNewline || $0 == "," }).map(String.init)
        do {
            try await CommentModeration(database: req.db, now: Date()).saveDefaults(closedKinds: kinds, words: words, by: staff, settings: liveSettings)
        } catch EditorialError.invalid(let problems) {
            return try await page(req, error: problems.values.first, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.comments, "settings"), redirectType: .normal)
    }

    /// Back to the page the moderator acted from: the whole queue, or one article's comments.
    private func back(_ req: Request, done: String) -> Response {
        let from = (try? req.content.get(String.self, at: "return")) ?? AdminURL.comments
        let page = from.hasPrefix(AdminURL.comments) && !from.contains("//") && !from.contains("\\") ? from : AdminURL.comments
        return req.redirect(to: page + (page.contains("?") ? "&" : "?") + "done=\(done)", redirectType: .normal)
    }
}
