import Fluent
import Foundation
import Vapor

/// The standing pages (editors and above): the list, a new page, edits and deletion.
struct PagesController: Sendable {
    let admin: AdminPages

    struct Row {
        let title: String
        let edition: String
        let address: String
        let state: String
        let url: String
    }

    struct PagesPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let rows: [Row]
        let heading: String
        let formAction: String
        let deleteAction: String?
        let title: String
        let slug: String
        let markdown: String
        let published: Bool
        let editions: [Option]
        let language: String
        let dir: String
        let viewURL: String?
        let newPageURL = AdminURL.pages
    }

    func register(on routes: any RoutesBuilder) {
        // A long page in Arabic or Persian is several times its length once form-encoded.
        let text = HTTPBodyStreamStrategy.collect(maxSize: "2mb")
        routes.get(AdminURL.Segment.pages) { try await pages($0, editing: nil) }
        routes.on(.POST, AdminURL.Segment.pages, body: text) { try await save($0, id: nil) }
        routes.get(AdminURL.Segment.pages, ":id") { try await pages($0, editing: try id($0)) }
        routes.on(.POST, AdminURL.Segment.pages, ":id", body: text) { try await save($0, id: try id($0)) }
        routes.post(AdminURL.Segment.pages, ":id", AdminURL.Segment.delete) { try await delete($0) }
    }

    private static let notices = ["saved": "Saved.", "deleted": "Deleted."]

    func pages(_ req: Request, editing id: UUID?, form: [String: String]? = nil, errors: [String: String] = [:], status: HTTPResponseStatus = .ok) async throws -> Response {
        _ = try req.requireStaff(.managePages)
        let all = try await Page.query(on: req.db).sort(\.$edition).sort(\.$title).all()
        let editing = id.flatMap { id in all.first { $0.id == id } }
        if id != nil && editing == nil { throw SiteError.notFound }
        let catalog = admin.theme.editions
        let editionCode = form?["edition"] ?? editing?.edition ?? catalog.all[0].code
        let edition = catalog[editionCode] ?? catalog.all[0]
        return try admin.render("admin/pages", PagesPage(
            layout: admin.layout("Pages", for: req, current: AdminURL.pages),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { Self.notices[$0] },
            errors: errors,
            rows: all.map { page in
                Row(
                    title: page.title, edition: catalog[page.edition]?.name ?? page.edition,
                    address: catalog[page.edition].map { SiteURL(edition: $0).page(page.slug) } ?? page.slug,
                    state: page.published ? "Published" : "Draft", url: AdminURL.page(page.id!)
                )
            },
            heading: editing.map { "Edit “\($0.title)”" } ?? "New page",
            formAction: editing.map { AdminURL.page($0.id!) } ?? AdminURL.pages,
            deleteAction: editing.map { AdminURL.deletePage($0.id!) },
            title: form?["title"] ?? editing?.title ?? "",
            slug: form?["slug"] ?? editing?.slug ?? "",
            markdown: form?["markdown"] ?? editing?.markdown ?? "",
            published: form.map { $0["published"] != nil } ?? editing?.published ?? false,
            editions: catalog.all.map { Option(value: $0.code, label: $0.name, selected: $0.code == edition.code) },
            language: edition.code, dir: edition.direction.rawValue,
            viewURL: editing.flatMap { page in page.published ? catalog[page.edition].map { SiteURL(edition: $0).page(page.slug) } : nil }
        ), status: status)
    }

    func save(_ req: Request, id: UUID?) async throws -> Response {
        let staff = try req.requireStaff(.managePages)
        let form = try req.content.decode([String: String].self)
        let input = PageEditor.Input(
            edition: form["edition"] ?? "", slug: form["slug"] ?? "", title: form["title"] ?? "",
            markdown: (form["markdown"] ?? "").replacingOccurrences(of: "\r\n", with: "\n"), published: form["published"] != nil
        )
        do {
            let page = try await editor(req).save(id, input, by: staff)
            return req.redirect(to: AdminURL.withNotice(AdminURL.page(page.id!), "saved"), redirectType: .normal)
        } catch EditorialError.invalid(let problems) {
            return try await pages(req, editing: id, form: form, errors: problems, status: .unprocessableEntity)
        }
    }

    func delete(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.managePages)
        try await editor(req).delete(try id(req), by: staff)
        return req.redirect(to: AdminURL.withNotice(AdminURL.pages, "deleted"), redirectType: .normal)
    }

    private func editor(_ req: Request) -> PageEditor {
        PageEditor(database: req.db, editions: admin.theme.editions, now: Date())
    }

    private func id(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id", as: UUID.self) else { throw SiteError.notFound }
        return id
    }
}
