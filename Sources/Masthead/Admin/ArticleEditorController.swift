import Fluent
import Foundation
import Vapor

/// The article editor: write, preview, save, publish, schedule, unpublish, correct and link
/// translations. Handlers parse and render; `ArticleEditor` decides and writes.
struct ArticleEditorController: Sendable {
    let admin: AdminPages
    let settings: Settings

    private var media: MediaLibrary { MediaLibrary(directory: settings.mediaDirectory) }

    func register(on routes: any RoutesBuilder) {
        let articles = routes.grouped(AdminURL.Segment.articles)
        let upload = HTTPBodyStreamStrategy.collect(maxSize: ByteCount(value: MediaLibrary.maximumBytes + 1_000_000))
        articles.get(AdminURL.Segment.new) { try await newArticle($0) }
        articles.on(.POST, AdminURL.Segment.new, body: upload) { try await save($0, id: nil) }
        articles.get(":id") { try await edit($0) }
        articles.on(.POST, ":id", body: upload) { try await save($0, id: try articleID($0)) }
        articles.post(":id", AdminURL.Segment.correction) { try await correct($0) }
        articles.post(":id", AdminURL.Segment.translation) { try await linkTranslation($0) }
        articles.post(":id", AdminURL.Segment.delete) { try await deleteDraft($0) }
        articles.get(":id", AdminURL.Segment.readerView) { try await readerView($0) }
        routes.on(.POST, AdminURL.Segment.preview, body: .collect(maxSize: "1mb")) { try preview($0) }
    }

    func newArticle(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let draft = ArticleDraft.empty(edition: admin.theme.editions.defaultEdition.code)
        return try await page(req, article: nil, draft: draft, staff: staff)
    }

    func edit(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let article = try await load(req, id: try articleID(req))
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        let notice = req.query[String.self, at: "done"].flatMap { Self.notices[$0] }
        return try await page(req, article: article, draft: try ArticleDraft(article), staff: staff, notice: notice)
    }

    func save(_ req: Request, id: UUID?) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let form = try req.content.decode(EditorForm.self)
        var existing: Article?
        if let id { existing = try await load(req, id: id) }
        if let existing, !StaffPolicy.mayEdit(staff, existing) { throw EditorialError.forbidden }
        let (draft, formProblems) = form.draft(defaultEdition: admin.theme.editions.defaultEdition.code, media: media)
        do {
            let intent = try form.intent(clock: admin.clock)
            if !formProblems.isEmpty { throw EditorialError.invalid(formProblems) }
            switch intent {
            case .preview:
                let preview = EditorPage.previewHTML(markdown: draft.body, previewParagraphs: settings.previewParagraphs)
                return try await page(req, article: existing, draft: draft, staff: staff, form: form, preview: preview)
            case .save(let action):
                let article = if let id {
                    try await editor(req).update(id, draft, newTopics: form.topicsToCreate, action: action, basedOn: form.baseRevision.flatMap { Int($0) }, by: staff)
                } else {
                    try await editor(req).create(draft, newTopics: form.topicsToCreate, action: action, by: staff)
                }
                return req.redirect(to: AdminURL.withNotice(AdminURL.article(try article.requireID()), action.name), redirectType: .normal)
            }
        } catch EditorialError.invalid(let problems) {
            return try await page(req, article: existing, draft: draft, staff: staff, form: form, problems: formProblems.merging(problems) { $1 }, status: .unprocessableEntity)
        }
    }

    func preview(_ req: Request) throws -> Response {
        _ = try req.requireStaff(.writeArticles)
        struct PreviewForm: Content { let body: String? }
        let markdown = try req.content.decode(PreviewForm.self).body ?? ""
        guard markdown.count <= ArticleEditor.maximumBodyLength else { throw EditorialError.invalid(["body": "too long"]) }
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/html; charset=utf-8")
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: EditorPage.previewHTML(markdown: markdown, previewParagraphs: settings.previewParagraphs)))
    }

    func correct(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        struct CorrectionForm: Content { let note: String? }
        let id = try articleID(req)
        let note = try req.content.decode(CorrectionForm.self).note ?? ""
        do {
            try await editor(req).addCorrection(to: id, note: note, by: staff)
        } catch EditorialError.invalid(let problems) {
            let article = try await load(req, id: id)
            return try await page(req, article: article, draft: try ArticleDraft(article), staff: staff, problems: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.article(id), "corrected"), redirectType: .normal)
    }

    func linkTranslation(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        struct TranslationForm: Content { let translation: String? }
        let id = try articleID(req)
        let choice = try req.content.decode(TranslationForm.self).translation ?? ""
        do {
            try await editor(req).linkTranslation(id, to: UUID(uuidString: choice), by: staff)
        } catch EditorialError.invalid(let problems) {
            let article = try await load(req, id: id)
            return try await page(req, article: article, draft: try ArticleDraft(article), staff: staff, problems: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.article(id), choice.isEmpty ? "unlinked" : "linked"), redirectType: .normal)
    }

    /// The article's public page as a reader, a free member or a subscriber would get it,
    /// published or not. The paid text goes through the same access decision as on the site.
    func readerView(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let query = Article.query(on: req.db).filter(\.$id == (try articleID(req)))
            .with(\.$authorCredits) { $0.with(\.$author) }
            .with(\.$topicLinks) { $0.with(\.$topic) { $0.with(\.$names) } }
            .with(\.$corrections)
        guard let article = try await query.first() else { throw SiteError.notFound }
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        let level = req.query[String.self, at: "as"].flatMap(AccessLevel.init(rawValue:)) ?? .anonymous
        let viewer: Viewer = switch level {
        case .anonymous: .anonymous
        case .member: .freeMember
        case .paid: .paidMember
        }
        let edition = admin.theme.editions[article.edition] ?? admin.theme.editions.defaultEdition
        let pages = SitePages(theme: admin.theme, settings: settings)
        let access = AccessPolicy.decide(article: article, viewer: viewer, meter: .none)
        let html = try pages.articlePage(
            article, edition: edition, access: access, gatedText: try await article.gatedText(for: access, on: req.db), viewerLevel: level,
            related: [], translations: try await PublishedArticles(database: req.db).translations(of: article),
            live: try await SiteController.liveCoverage(of: article, access: access, on: req.db)
        )
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/html; charset=utf-8")
        headers.add(name: .cacheControl, value: "no-store")
        headers.add(name: "X-Robots-Tag", value: "noindex")
        return Response(status: .ok, headers: headers, body: .init(string: html))
    }

    func deleteDraft(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let id = try articleID(req)
        do {
            try await editor(req).deleteDraft(id, by: staff)
        } catch EditorialError.invalid(let problems) {
            let article = try await load(req, id: id)
            return try await page(req, article: article, draft: try ArticleDraft(article), staff: staff, problems: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.home, "deleted"), redirectType: .normal)
    }

    private static let notices: [String: String] = [
        "created": "Draft created.",
        "saved": "Saved.",
        "published": "Published: it is on the site now.",
        "scheduled": "Scheduled: it will be published at the time set.",
        "unpublished": "Unpublished: readers no longer see it.",
        "corrected": "Correction published under the article.",
        "linked": "Translation linked.",
        "unlinked": "Translation link removed.",
        "restored": "The earlier revision is restored.",
    ]

    private func editor(_ req: Request) -> ArticleEditor {
        admin.articleEditor(req)
    }

    private func articleID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id", as: UUID.self) else { throw SiteError.notFound }
        return id
    }

    private func load(_ req: Request, id: UUID) async throws -> Article {
        guard let article = try await Article.query(on: req.db).filter(\.$id == id)
            .with(\.$authorCredits).with(\.$topicLinks).with(\.$corrections).with(\.$text).first()
        else { throw SiteError.notFound }
        return article
    }

    private func page(
        _ req: Request, article: Article?, draft: ArticleDraft, staff: Staff, form: EditorForm? = nil, notice: String? = nil,
        preview: String? = nil, problems: [String: String] = [:], status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let authors = try await Author.query(on: req.db).sort(\.$name).all()
        let topics = try await Topic.query(on: req.db).with(\.$names).sort(\.$slug).all()
        let dates = admin.clock
        let id = article?.id
        let published = article?.status == .published
        let edition = admin.theme.editions[draft.edition] ?? admin.theme.editions.defaultEdition
        var statusLine = "New article, not saved yet"
        if let article {
            switch article.status {
            case .draft: statusLine = "Draft"
            case .published: statusLine = "Published " + (article.publishedAt.map(dates.dayAndTime) ?? "")
            case .scheduled: statusLine = "Scheduled for " + (article.publishedAt.map(dates.dayAndTime) ?? "")
            }
        }
        let translations = try await translationsOf(article, on: req.db)
        var baseRevision: Int?
        if let id { baseRevision = try await editor(req).latestRevision(of: id) }
        let candidates = try await translationCandidates(for: article, on: req.db)
        let mayPublish = article.map { StaffPolicy.mayPublish(staff, $0) } ?? (staff.role != .contributor)
        let fieldOrder = ["conflict", "delete", "title", "dek", "body", "edition", "kind", "visibility", "slug", "authors", "topics", "image", "imageAlt", "seoTitle", "seoDescription", "scheduleAt", "correction", "translation", "action"]
        let model = EditorPage(
            layout: admin.layout(article == nil ? "New article" : "Edit: \(draft.title)", for: req, current: article == nil ? AdminURL.newArticle : nil),
            heading: article == nil ? "New article" : "Edit article",
            formAction: id.map(AdminURL.article) ?? AdminURL.newArticle,
            baseRevision: baseRevision,
            csrf: admin.token(req),
            statusLine: statusLine,
            publicURL: published ? SiteURL(edition: edition).article(article!.slug) : nil,
            revisionsURL: id.map(AdminURL.articleRevisions),
            liveDeskURL: mayPublish ? id.map(AdminURL.liveDesk) : nil,
            breakingNewsURL: StaffPolicy.may(staff.role, .flagBreakingNews) && published ? id.map(AdminURL.breakingNews) : nil,
            commentsURL: StaffPolicy.may(staff.role, .moderateComments) ? id.map { AdminURL.commentsOf($0) } : nil,
            readerViews: id.map { id in
                [("a reader", AccessLevel.anonymous, ", "), ("a free member", .member, " or "), ("a subscriber", .paid, "")]
                    .map { EditorPage.Link(label: $0.0, url: AdminURL.readerView(id, as: $0.1), separator: $0.2) }
            } ?? [],
            hasReaderViews: id != nil,
            notice: notice,
            errors: problems,
            problems: problems.sorted { (fieldOrder.firstIndex(of: $0.key) ?? 99) < (fieldOrder.firstIndex(of: $1.key) ?? 99) }
                .map { .init(field: $0.key == "conflict" ? "body" : $0.key, message: $0.value) },
            hasProblems: !problems.isEmpty,
            title: draft.title, dek: draft.dek, slug: draft.slug, body: draft.body,
            editions: admin.theme.editions.all.map { .init(value: $0.code, label: $0.name, selected: $0.code == draft.edition, dir: $0.direction.rawValue) },
            previewLang: edition.code,
            previewDir: edition.direction.rawValue,
            kinds: AdminPages.options(ArticleKind.allCases.map(\.rawValue), selected: draft.kind.rawValue),
            visibilities: AdminPages.options(Visibility.allCases.map(\.rawValue), selected: draft.visibility.rawValue),
            authors: authors.map { .init(value: $0.id?.uuidString ?? "", label: $0.name, checked: draft.authorIDs.contains($0.id ?? UUID())) },
            topics: topics.filter { draft.topicIDs.contains($0.id ?? UUID()) }
                .map { .init(value: $0.id?.uuidString ?? "", label: $0.name(in: draft.edition), checked: true) },
            topicNames: topics.map { $0.name(in: draft.edition) },
            topicKinds: AdminPages.options(TopicKind.allCases.map(\.rawValue), selected: form?.newTopicKind ?? TopicKind.theme.rawValue),
            pendingTopics: (form?.topicsToCreate ?? []).map { $0.name.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            image: draft.image.map { .init(src: SiteURL.media($0.path), path: $0.path, width: $0.width, height: $0.height) },
            imageAlt: draft.imageAlt, imageCaption: draft.imageCaption, imageCredit: draft.imageCredit,
            seoTitle: draft.seoTitle, seoDescription: draft.seoDescription,
            scheduleAt: form?.scheduleAt ?? (article?.status == .scheduled ? article?.publishedAt.map(dates.localInput) ?? "" : ""),
            previewHTML: preview,
            mayPublish: mayPublish,
            mayUnpublish: mayPublish && article.map { $0.status != .draft } == true,
            isPublished: published,
            correctionAction: published && mayPublish ? AdminURL.articleCorrection(id!) : nil,
            deleteAction: article.flatMap { $0.status == .draft && $0.publishedAt == nil ? AdminURL.deleteArticle(id!) : nil },
            corrections: (article?.$corrections.value ?? []).sorted { $0.createdAt < $1.createdAt }
                .map { .init(date: dates.dayAndTime($0.createdAt), note: $0.note) },
            translationAction: id.map(AdminURL.articleTranslation),
            translationOptions: candidates,
            translations: translations.compactMap { other in
                admin.theme.editions[other.edition].map { .init(title: other.title, edition: $0.name, url: AdminURL.article(other.id!)) }
            },
            hasTranslations: !translations.isEmpty
        )
        return try admin.render("admin/editor", model, status: status)
    }

    private func translationsOf(_ article: Article?, on db: any Database) async throws -> [Article] {
        guard let article, let group = article.translationGroup else { return [] }
        return try await Article.query(on: db).filter(\.$translationGroup == group).filter(\.$id != article.id!).all()
    }

    /// Recent articles in other editions that an article could be linked to as its translation.
    private func translationCandidates(for article: Article?, on db: any Database) async throws -> [Option] {
        guard let article else { return [] }
        let others = try await Article.query(on: db).filter(\.$edition != article.edition)
            .sort(\.$updatedAt, .descending).limit(200).all()
        return others.map {
            Option(
                value: $0.id?.uuidString ?? "", label: "[\($0.edition)] \($0.title)",
                selected: article.translationGroup != nil && $0.translationGroup == article.translationGroup
            )
        }
    }
}
