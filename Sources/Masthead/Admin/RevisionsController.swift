import Fluent
import Foundation
import Vapor

/// An article's revisions: the list, what each changed against the one before, and restore.
struct RevisionsController: Sendable {
    let admin: AdminPages

    struct Row {
        let number: Int
        let date: String
        let staffName: String
        let action: String
        let url: String
    }

    struct ListPage {
        let layout: AdminPages.Layout
        let title: String
        let editURL: String
        let rows: [Row]
    }

    struct DiffLine {
        let marker: String
        let text: String
        let kind: String
    }

    struct FieldChange {
        let field: String
        let before: String
        let after: String
    }

    struct DiffPage {
        let layout: AdminPages.Layout
        let title: String
        let heading: String
        let listURL: String
        let restoreAction: String
        let csrf: String
        let mayRestore: Bool
        let error: String?
        let changes: [FieldChange]
        let hasChanges: Bool
        let lines: [DiffLine]
        let bodyChanged: Bool
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.articles, ":id", AdminURL.Segment.revisions) { try await list($0) }
        routes.get(AdminURL.Segment.articles, ":id", AdminURL.Segment.revisions, ":revision") { try await diff($0) }
        routes.post(AdminURL.Segment.articles, ":id", AdminURL.Segment.revisions, ":revision", AdminURL.Segment.restore) { try await restore($0) }
    }

    func list(_ req: Request) async throws -> Response {
        let (article, _) = try await editableArticle(req)
        let revisions = try await ArticleRevision.query(on: req.db).filter(\.$article.$id == article.id!)
            .sort(\.$number, .descending).all()
        let dates = admin.clock
        return try admin.render("admin/revisions", ListPage(
            layout: admin.layout("Revisions: \(article.title)", for: req),
            title: article.title, editURL: AdminURL.article(article.id!),
            rows: revisions.map {
                Row(number: $0.number, date: dates.dayAndTime($0.createdAt), staffName: $0.staffName, action: $0.action,
                    url: AdminURL.articleRevision(article.id!, $0.id!))
            }
        ))
    }

    func diff(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let (article, staff) = try await editableArticle(req)
        let revision = try await revision(req, of: article)
        let earlier = try await ArticleRevision.query(on: req.db).filter(\.$article.$id == article.id!)
            .filter(\.$number == revision.number - 1).first()
        let after = try revision.draft()
        let before = try earlier?.draft() ?? .empty(edition: after.edition)
        let dates = admin.clock
        let changes = fieldChanges(before, after)
        let lines = LineDiff.compare(before.body, after.body)
        return try admin.render("admin/revision", DiffPage(
            layout: admin.layout("Revision of \(article.title)", for: req),
            title: article.title,
            heading: "Revision \(revision.number): \(revision.action) by \(revision.staffName), \(dates.dayAndTime(revision.createdAt))",
            listURL: AdminURL.articleRevisions(article.id!),
            restoreAction: AdminURL.restoreRevision(article.id!, revision.id!),
            csrf: admin.token(req),
            mayRestore: StaffPolicy.mayEdit(staff, article),
            error: error,
            changes: changes, hasChanges: !changes.isEmpty,
            lines: lines.map {
                switch $0 {
                case .same(let text): DiffLine(marker: " ", text: text, kind: "same")
                case .removed(let text): DiffLine(marker: "−", text: text, kind: "removed")
                case .added(let text): DiffLine(marker: "+", text: text, kind: "added")
                }
            },
            bodyChanged: before.body != after.body
        ), status: status)
    }

    func restore(_ req: Request) async throws -> Response {
        let (article, staff) = try await editableArticle(req)
        let revision = try await revision(req, of: article)
        do {
            _ = try await admin.articleEditor(req).restore(revision.id!, by: staff)
        } catch EditorialError.invalid(let problems) {
            let reasons = problems.sorted { $0.key < $1.key }.map(\.value).joined(separator: " ")
            return try await diff(req, error: "This revision cannot be restored as it is: \(reasons)", status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.article(article.id!), "restored"), redirectType: .normal)
    }

    private func editableArticle(_ req: Request) async throws -> (Article, Staff) {
        let staff = try req.requireStaff(.writeArticles)
        let article = try await req.record(Article.self)
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        return (article, staff)
    }

    private func revision(_ req: Request, of article: Article) async throws -> ArticleRevision {
        let revision = try await req.record(ArticleRevision.self, at: "revision")
        guard revision.$article.id == article.id else { throw SiteError.notFound }
        return revision
    }

    private func fieldChanges(_ before: ArticleDraft, _ after: ArticleDraft) -> [FieldChange] {
        let fields: [(String, (ArticleDraft) -> String)] = [
            ("Headline", \.title), ("Dek", \.dek), ("Slug", \.slug), ("Edition", \.edition),
            ("Kind", { $0.kind.rawValue }), ("Visibility", { $0.visibility.rawValue }),
            ("Image", { $0.image?.path ?? "" }), ("Image description", \.imageAlt), ("Caption", \.imageCaption),
            ("Credit", \.imageCredit), ("SEO title", \.seoTitle), ("SEO description", \.seoDescription),
            ("Authors", { "\($0.authorIDs.count) credited" }), ("Topics", { "\($0.topicIDs.count) chosen" }),
        ]
        return fields.compactMap { name, value in
            value(before) == value(after) ? nil : FieldChange(field: name, before: value(before), after: value(after))
        }
    }
}
