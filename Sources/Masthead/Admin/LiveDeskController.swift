import Fluent
import Foundation
import Vapor

/// The live desk of one article: open or close its live coverage, keep the summary, and post,
/// edit, pin and remove updates. A page of its own, so that editors posting every few minutes
/// do not reload the whole article editor; several may work on one story at once.
struct LiveDeskController: Sendable {
    let admin: AdminPages

    struct UpdateRow {
        let time: String
        let author: String
        let headline: String
        let html: String
        let keyEvent: Bool
        let pinned: Bool
        let editURL: String
        let pinAction: String
        let pinLabel: String
        let pinValue: String
        let deleteAction: String
        let publicURL: String?
    }

    struct DeskPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let title: String
        let editorURL: String
        let publicURL: String?
        let language: String
        let dir: String
        let isOpen: Bool
        let isLive: Bool
        let deskAction: String
        let summary: String
        let updatesAction: String
        let heading: String
        let formAction: String
        let headline: String
        let markdown: String
        let keyEvent: Bool
        let pinned: Bool
        let editing: Bool
        let rows: [UpdateRow]
        let hasRows: Bool
    }

    func register(on routes: any RoutesBuilder) {
        let live = routes.grouped(AdminURL.Segment.articles, ":id", AdminURL.Segment.live)
        let text = HTTPBodyStreamStrategy.collect(maxSize: "512kb")
        live.get { try await desk($0) }
        live.on(.POST, body: text) { try await saveDesk($0) }
        live.on(.POST, AdminURL.Segment.updates, body: text) { try await post($0) }
        live.get(AdminURL.Segment.updates, ":update") { try await desk($0, editing: try updateID($0)) }
        live.on(.POST, AdminURL.Segment.updates, ":update", body: text) { try await saveUpdate($0) }
        live.post(AdminURL.Segment.updates, ":update", AdminURL.Segment.pin) { try await pin($0) }
        live.post(AdminURL.Segment.updates, ":update", AdminURL.Segment.delete) { try await remove($0) }
    }

    private static let notices = [
        "opened": "Live coverage is open.", "closed": "Live coverage is closed.", "summary": "Summary saved.",
        "posted": "Update posted.", "saved": "Update saved.", "pinned": "Pinned.", "unpinned": "Unpinned.", "removed": "Update removed.",
    ]

    func desk(_ req: Request, editing updateID: UUID? = nil, form: [String: String]? = nil, errors: [String: String] = [:], status: HTTPResponseStatus = .ok) async throws -> Response {
        let (staff, article) = try await load(req)
        guard StaffPolicy.mayPublish(staff, article) else { throw EditorialError.forbidden }
        let id = try article.requireID()
        let story = try await LiveStory.find(id, on: req.db)
        let updates = try await LiveUpdate.query(on: req.db).filter(\.$articleID == id).filter(\.$deleted == false)
            .sort(\.$sequence, .descending).all()
        let editing = updateID.flatMap { wanted in updates.first { $0.id == wanted } }
        if updateID != nil && editing == nil { throw SiteError.notFound }
        let edition = admin.theme.editions[article.edition] ?? admin.theme.editions.defaultEdition
        let publicPath = article.status == .published ? SiteURL(edition: edition).article(article.slug) : nil
        let clock = admin.clock
        return try admin.render("admin/live", DeskPage(
            layout: admin.layout("Live: \(article.title)", for: req),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { Self.notices[$0] },
            errors: errors,
            title: article.title,
            editorURL: AdminURL.article(id),
            publicURL: publicPath,
            language: edition.code, dir: edition.direction.rawValue,
            isOpen: story != nil,
            isLive: story?.isLive ?? false,
            deskAction: AdminURL.liveDesk(id),
            summary: form?["summary"] ?? story?.summaryMarkdown ?? "",
            updatesAction: AdminURL.liveUpdates(id),
            heading: editing == nil ? "Post an update" : "Edit the update",
            formAction: editing.flatMap { $0.id }.map { AdminURL.liveUpdate(id, $0) } ?? AdminURL.liveUpdates(id),
            headline: form?["headline"] ?? editing?.headline ?? "",
            markdown: form?["markdown"] ?? editing?.markdown ?? "",
            keyEvent: form.map { $0["key_event"] != nil } ?? editing?.keyEvent ?? false,
            pinned: form.map { $0["pinned"] != nil } ?? editing?.pinned ?? false,
            editing: editing != nil,
            rows: updates.compactMap { update in
                guard let updateID = update.id else { return nil }
                return UpdateRow(
                    time: clock.dayAndTime(update.createdAt), author: update.authorName, headline: update.headline, html: update.html,
                    keyEvent: update.keyEvent, pinned: update.pinned,
                    editURL: AdminURL.liveUpdate(id, updateID), pinAction: AdminURL.pinLiveUpdate(id, updateID),
                    pinLabel: update.pinned ? "Unpin" : "Pin to the top", pinValue: update.pinned ? "0" : "1",
                    deleteAction: AdminURL.deleteLiveUpdate(id, updateID),
                    publicURL: publicPath.map { "\($0)#\(update.anchor)" }
                )
            },
            hasRows: !updates.isEmpty
        ), status: status)
    }

    func saveDesk(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        let form = try req.content.decode([String: String].self)
        let summary = Self.text(form["summary"])
        let liveDesk = LiveDesk(database: req.db, now: Date())
        let done: String
        do {
            switch form["action"] {
            case "open": _ = try await liveDesk.open(article, summary: summary, by: staff); done = "opened"
            case "close": try await liveDesk.close(article, by: staff); done = "closed"
            default: try await liveDesk.saveSummary(article, summary: summary, by: staff); done = "summary"
            }
        } catch EditorialError.invalid(let problems) {
            return try await desk(req, form: form, errors: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.liveDesk(try article.requireID()), done), redirectType: .normal)
    }

    func post(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        let form = try req.content.decode([String: String].self)
        do {
            _ = try await LiveDesk(database: req.db, now: Date()).post(article, Self.input(form), by: staff)
        } catch EditorialError.invalid(let problems) {
            return try await desk(req, form: form, errors: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.liveDesk(try article.requireID()), "posted"), redirectType: .normal)
    }

    func saveUpdate(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        let updateID = try updateID(req)
        let form = try req.content.decode([String: String].self)
        do {
            try await LiveDesk(database: req.db, now: Date()).edit(article, update: updateID, Self.input(form), by: staff)
        } catch EditorialError.invalid(let problems) {
            return try await desk(req, editing: updateID, form: form, errors: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.liveDesk(try article.requireID()), "saved"), redirectType: .normal)
    }

    func pin(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        let pinned = try req.content.decode([String: String].self)["pinned"] == "1"
        try await LiveDesk(database: req.db, now: Date()).setPinned(article, update: try updateID(req), pinned, by: staff)
        return req.redirect(to: AdminURL.withNotice(AdminURL.liveDesk(try article.requireID()), pinned ? "pinned" : "unpinned"), redirectType: .normal)
    }

    func remove(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        try await LiveDesk(database: req.db, now: Date()).remove(article, update: try updateID(req), by: staff)
        return req.redirect(to: AdminURL.withNotice(AdminURL.liveDesk(try article.requireID()), "removed"), redirectType: .normal)
    }

    private func load(_ req: Request) async throws -> (Staff, Article) {
        let staff = try req.requireStaff(.writeArticles)
        let article = try await req.record(Article.self)
        return (staff, article)
    }

    private func updateID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("update", as: UUID.self) else { throw SiteError.notFound }
        return id
    }

    private static func text(_ value: String?) -> String {
        (value ?? "").replacingOccurrences(of: "\r\n", with: "\n")
    }

    private static func input(_ form: [String: String]) -> LiveDesk.UpdateInput {
        .init(headline: form["headline"] ?? "", markdown: text(form["markdown"]), keyEvent: form["key_event"] != nil, pinned: form["pinned"] != nil)
    }
}
