import Fluent
import Foundation
import Vapor

/// The topics and authors pages (editors and above): lists, new ones, edits and deletion.
struct TaxonomyController: Sendable {
    let admin: AdminPages
    let settings: Settings

    struct TopicRow {
        let names: String
        let slug: String
        let kind: String
        let articles: Int
        let url: String
    }

    struct EditionName {
        let code: String
        let language: String
        let dir: String
        let name: String
        let description: String
    }

    struct TopicPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let rows: [TopicRow]
        let heading: String
        let formAction: String
        let deleteAction: String?
        let slug: String
        let kinds: [Option]
        let editions: [EditionName]
        let aliases: String
        let newTopicURL = AdminURL.topics
    }

    struct AuthorRow {
        let name: String
        let slug: String
        let articles: Int
        let url: String
    }

    struct AuthorPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let rows: [AuthorRow]
        let heading: String
        let formAction: String
        let deleteAction: String?
        let name: String
        let slug: String
        let bio: String
        /// The biography in each edition but the first, whose text is `bio`.
        let otherBios: [EditionBio]
        let photo: String?
        let newAuthorURL = AdminURL.authors
    }

    struct EditionBio {
        let code: String
        let language: String
        let dir: String
        let bio: String
    }

    struct AuthorForm: Content {
        var name: String?
        var slug: String?
        var bio: String?
        var photo: File?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.topics) { try await topics($0, editing: nil) }
        routes.post(AdminURL.Segment.topics) { try await saveTopic($0, id: nil) }
        routes.get(AdminURL.Segment.topics, ":id") { try await topics($0, editing: try id($0)) }
        routes.post(AdminURL.Segment.topics, ":id") { try await saveTopic($0, id: try id($0)) }
        routes.post(AdminURL.Segment.topics, ":id", AdminURL.Segment.delete) { try await deleteTopic($0) }
        let upload = HTTPBodyStreamStrategy.collect(maxSize: ByteCount(value: MediaLibrary.maximumBytes + 1_000_000))
        routes.get(AdminURL.Segment.authors) { try await authors($0, editing: nil) }
        routes.on(.POST, AdminURL.Segment.authors, body: upload) { try await saveAuthor($0, id: nil) }
        routes.get(AdminURL.Segment.authors, ":id") { try await authors($0, editing: try id($0)) }
        routes.on(.POST, AdminURL.Segment.authors, ":id", body: upload) { try await saveAuthor($0, id: try id($0)) }
        routes.post(AdminURL.Segment.authors, ":id", AdminURL.Segment.delete) { try await deleteAuthor($0) }
    }

    private static let notices = ["saved": "Saved.", "deleted": "Deleted."]

    func topics(_ req: Request, editing id: UUID?, form: [String: String]? = nil, errors: [String: String] = [:], status: HTTPResponseStatus = .ok) async throws -> Response {
        _ = try req.requireStaff(.manageTopicsAndAuthors)
        let all = try await Topic.query(on: req.db).with(\.$names).sort(\.$slug).all()
        let counts = try await articleCounts(ArticleTopic.query(on: req.db).all().map { $0.$topic.id })
        let editing = id.flatMap { id in all.first { $0.id == id } }
        if id != nil && editing == nil { throw SiteError.notFound }
        let editions = admin.theme.editions.all
        return try admin.render("admin/topics", TopicPage(
            layout: admin.layout("Topics", for: req, current: AdminURL.topics),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { Self.notices[$0] },
            errors: errors,
            rows: all.map { topic in
                TopicRow(
                    names: editions.compactMap { edition in topic.names.first { $0.edition == edition.code }?.name }.joined(separator: " · "),
                    slug: topic.slug, kind: topic.kind.rawValue, articles: counts[topic.id!] ?? 0, url: AdminURL.topic(topic.id!)
                )
            },
            heading: editing.map { "Edit the topic “\($0.name(in: editions[0].code))”" } ?? "New topic",
            formAction: editing.map { AdminURL.topic($0.id!) } ?? AdminURL.topics,
            deleteAction: editing.map { AdminURL.deleteTopic($0.id!) },
            slug: form?["slug"] ?? editing?.slug ?? "",
            kinds: AdminPages.options(TopicKind.allCases.map(\.rawValue), selected: form?["kind"] ?? editing?.kind.rawValue ?? TopicKind.country.rawValue),
            editions: editions.map { edition in
                let stored = editing?.names.first { $0.edition == edition.code }
                return EditionName(
                    code: edition.code, language: edition.name, dir: edition.direction.rawValue,
                    name: form?["name_\(edition.code)"] ?? stored?.name ?? "",
                    description: form?["description_\(edition.code)"] ?? stored?.description ?? ""
                )
            },
            aliases: form?["aliases"] ?? editing?.aliases ?? ""
        ), status: status)
    }

    func saveTopic(_ req: Request, id: UUID?) async throws -> Response {
        let staff = try req.requireStaff(.manageTopicsAndAuthors)
        let form = try req.content.decode([String: String].self)
        var names: [String: (name: String, description: String)] = [:]
        for edition in admin.theme.editions.all {
            names[edition.code] = (form["name_\(edition.code)"] ?? "", form["description_\(edition.code)"] ?? "")
        }
        let input = Taxonomy.TopicInput(
            slug: form["slug"] ?? "", kind: TopicKind(rawValue: form["kind"] ?? "") ?? .theme, names: names,
            aliases: (form["aliases"] ?? "").split(whereSeparator: \.isNewline).map(String.init)
        )
        do {
            let topic = try await taxonomy(req).saveTopic(id, input, by: staff)
            return req.redirect(to: AdminURL.withNotice(AdminURL.topic(topic.id!), "saved"), redirectType: .normal)
        } catch EditorialError.invalid(let problems) {
            return try await topics(req, editing: id, form: form, errors: problems, status: .unprocessableEntity)
        }
    }

    func deleteTopic(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.manageTopicsAndAuthors)
        try await taxonomy(req).deleteTopic(try id(req), by: staff)
        return req.redirect(to: AdminURL.withNotice(AdminURL.topics, "deleted"), redirectType: .normal)
    }

    func authors(
        _ req: Request, editing id: UUID?, form: AuthorForm? = nil, typedBios: [String: String]? = nil,
        errors: [String: String] = [:], status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        _ = try req.requireStaff(.manageTopicsAndAuthors)
        let all = try await Author.query(on: req.db).sort(\.$name).all()
        let counts = try await articleCounts(ArticleAuthor.query(on: req.db).all().map { $0.$author.id })
        let editing = id.flatMap { id in all.first { $0.id == id } }
        if id != nil && editing == nil { throw SiteError.notFound }
        return try admin.render("admin/authors", AuthorPage(
            layout: admin.layout("Authors", for: req, current: AdminURL.authors),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { Self.notices[$0] },
            errors: errors,
            rows: all.map { AuthorRow(name: $0.name, slug: $0.slug, articles: counts[$0.id!] ?? 0, url: AdminURL.author($0.id!)) },
            heading: editing.map { "Edit \($0.name)" } ?? "New author",
            formAction: editing.map { AdminURL.author($0.id!) } ?? AdminURL.authors,
            deleteAction: editing.map { AdminURL.deleteAuthor($0.id!) },
            name: form?.name ?? editing?.name ?? "",
            slug: form?.slug ?? editing?.slug ?? "",
            bio: form?.bio ?? editing?.bio ?? "",
            otherBios: admin.theme.editions.all.dropFirst().map { edition in
                EditionBio(
                    code: edition.code, language: edition.name, dir: edition.direction.rawValue,
                    bio: typedBios?[edition.code] ?? editing?.bios[edition.code] ?? ""
                )
            },
            photo: editing?.photoPath.map(SiteURL.media)
        ), status: status)
    }

    func saveAuthor(_ req: Request, id: UUID?) async throws -> Response {
        let staff = try req.requireStaff(.manageTopicsAndAuthors)
        let form = try req.content.decode(AuthorForm.self)
        var bios: [String: String] = [:]
        for edition in admin.theme.editions.all.dropFirst() {
            bios[edition.code] = (try? req.content.get(String.self, at: "bio_\(edition.code)")) ?? ""
        }
        do {
            var photo: String?
            if let file = form.photo, file.data.readableBytes > 0 {
                do {
                    photo = try MediaLibrary(directory: settings.mediaDirectory).store(Data(buffer: file.data)).path
                } catch let problem as MediaLibrary.Problem {
                    throw EditorialError.invalid(["photo": problem.description])
                }
            }
            let author = try await taxonomy(req).saveAuthor(id, .init(slug: form.slug ?? "", name: form.name ?? "", bio: form.bio ?? "", bios: bios, photoPath: photo), by: staff)
            return req.redirect(to: AdminURL.withNotice(AdminURL.author(author.id!), "saved"), redirectType: .normal)
        } catch EditorialError.invalid(let problems) {
            return try await authors(req, editing: id, form: form, typedBios: bios, errors: problems, status: .unprocessableEntity)
        }
    }

    func deleteAuthor(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.manageTopicsAndAuthors)
        let id = try id(req)
        do {
            try await taxonomy(req).deleteAuthor(id, by: staff)
        } catch EditorialError.invalid(let problems) {
            return try await authors(req, editing: id, errors: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.authors, "deleted"), redirectType: .normal)
    }

    private func taxonomy(_ req: Request) -> Taxonomy {
        Taxonomy(database: req.db, now: Date())
    }

    private func id(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id", as: UUID.self) else { throw SiteError.notFound }
        return id
    }

    private func articleCounts(_ ids: [UUID]) -> [UUID: Int] {
        ids.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}
