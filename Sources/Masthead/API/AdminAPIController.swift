import Fluent
import Foundation
import Vapor

/// `/api/admin/v1/`: newsroom tools and scripts write, publish and upload through the same
/// `ArticleEditor` and `StaffPolicy` as the admin, acting as the staff member whose token they
/// hold, within its scopes; every change is in the audit log under that member's name. Tokens
/// travel only in `Authorization`, and no cookie is read, so cross-site forgery has nothing to
/// ride on (`FormProtection` leaves these paths to the token).
struct AdminAPIController: Sendable {
    static let imagesPath = APIPaths.adminPrefix + "/images"
    static let articlesPath = APIPaths.adminPrefix + "/articles"
    /// An article's JSON: the editor takes bodies of up to 200,000 characters, up to 4 bytes each.
    static let articleBodyBytes = ByteCount(integerLiteral: 1024 * 1024)

    let settings: Settings
    let editions: EditionCatalog
    let limiter: APIRateLimiter
    /// Failed token lookups, by client address.
    let failures: APIRateLimiter

    func register(on routes: any RoutesBuilder) {
        let api = routes.grouped(APIPaths.admin.map { PathComponent.constant($0) })
        api.on(.POST, "articles", body: .collect(maxSize: Self.articleBodyBytes)) { req in
            let (staff, scopes) = try await authenticate(req, needs: .articlesWrite)
            let input = try ArticleInput.decode(req)
            let action = try input.action(scopes: scopes)
            let draft = try await input.draft(on: req.db, mediaDirectory: settings.mediaDirectory)
            let article = try await editor(req).create(draft, action: action, by: staff)
            return try await answer(req, article: article, scopes: scopes, status: .created)
        }
        api.get("articles", ":id") { req in
            let (staff, scopes) = try await authenticate(req, needs: .articlesRead)
            let article = try await load(req)
            guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
            return try await answer(req, article: article, scopes: scopes)
        }
        api.on(.PUT, "articles", ":id", body: .collect(maxSize: Self.articleBodyBytes)) { req in
            let (staff, scopes) = try await authenticate(req, needs: .articlesWrite)
            let id = try Self.id(req)
            // Saving over what readers see, or over what will go out on schedule, is publishing.
            if try await load(req).status != .draft, !scopes.contains(.articlesPublish) {
                throw APIError.insufficientScope(AdminAPIScope.articlesPublish.rawValue)
            }
            let input = try ArticleInput.decode(req)
            let action = try input.action(scopes: scopes)
            let draft = try await input.draft(on: req.db, mediaDirectory: settings.mediaDirectory)
            let article = try await editor(req).update(id, draft, action: action, basedOn: input.revision, by: staff)
            return try await answer(req, article: article, scopes: scopes)
        }
        api.post("articles", ":id", "publish") { req in
            let (staff, scopes) = try await authenticate(req, needs: .articlesPublish)
            let publishAt = try PublishInput.decode(req)?.publishAt
            return try await transition(req, staff: staff, scopes: scopes, to: try publishAt.map { .schedule(try Self.date($0, field: "publish_at")) } ?? .publish)
        }
        api.post("articles", ":id", "unpublish") { req in
            let (staff, scopes) = try await authenticate(req, needs: .articlesPublish)
            return try await transition(req, staff: staff, scopes: scopes, to: .unpublish, onlyIfOut: true)
        }
        api.delete("articles", ":id") { req in
            let (staff, _) = try await authenticate(req, needs: .articlesWrite)
            try await editor(req).deleteDraft(try Self.id(req), by: staff)
            return Response(status: .noContent)
        }
        api.on(.POST, "images", body: .collect(maxSize: ByteCount(integerLiteral: MediaLibrary.maximumBytes))) { req in
            let (staff, _) = try await authenticate(req, needs: .mediaWrite)
            guard let body = req.body.data else { throw MediaLibrary.Problem.empty }
            let image = try MediaLibrary(directory: settings.mediaDirectory).store(Data(buffer: body))
            let via = req.storage[TokenNameKey.self].map { " (via API token “\($0)”)" } ?? ""
            try await AuditLog(database: req.db, now: Date()).record(staff.email, "uploaded an image", image.path + via)
            return try json([
                "path": image.path, "url": settings.publicURL + SiteURL.media(image.path), "width": image.width, "height": image.height,
            ], status: .created)
        }
    }

    /// The staff member behind the bearer token, refused when the token lacks the scope or
    /// their role has since lost the power to write at all.
    private func authenticate(_ req: Request, needs scope: AdminAPIScope) async throws -> (Staff, Set<AdminAPIScope>) {
        guard let secret = ContentAPIController.bearer(req) else { throw APIError.missingToken }
        try failures.check(req.clientAddress)
        guard let (staff, scopes, name) = try await StaffTokens.authenticate(secret, on: req.db) else {
            try failures.count(req.clientAddress)
            throw APIError.invalidToken
        }
        try limiter.count("staff:\(try staff.requireID())")
        guard scopes.contains(scope) else { throw APIError.insufficientScope(scope.rawValue) }
        req.storage[TokenNameKey.self] = name
        return (staff, scopes)
    }

    private func transition(_ req: Request, staff: Staff, scopes: Set<AdminAPIScope>, to action: ArticleEditor.Action, onlyIfOut: Bool = false) async throws -> Response {
        let article = try await load(req)
        if onlyIfOut, article.status == .draft {
            throw EditorialError.invalid(["status": "This article is a draft already: only a published or scheduled article can be unpublished."])
        }
        let draft = try ArticleDraft(article)
        let saved = try await editor(req).update(try article.requireID(), draft, action: action, by: staff)
        return try await answer(req, article: saved, scopes: scopes)
    }

    private func editor(_ req: Request) -> ArticleEditor {
        ArticleEditor(
            database: req.db, previewParagraphs: settings.previewParagraphs, editionCodes: editions.all.map(\.code), now: Date(),
            timeZone: settings.timeZone, via: req.storage[TokenNameKey.self].map { "API token “\($0)”" }
        )
    }

    private func load(_ req: Request) async throws -> Article {
        let found = try await Article.query(on: req.db).filter(\.$id == Self.id(req))
            .with(\.$authorCredits) { $0.with(\.$author) }.with(\.$topicLinks) { $0.with(\.$topic) }.with(\.$text).first()
        guard let article = found else { throw EditorialError.notFound }
        return article
    }

    /// The article as saved; its Markdown only for a token that may read articles.
    private func answer(_ req: Request, article: Article, scopes: Set<AdminAPIScope>, status: HTTPResponseStatus = .ok) async throws -> Response {
        let article = try await Article.query(on: req.db).filter(\.$id == article.requireID())
            .with(\.$authorCredits) { $0.with(\.$author) }.with(\.$topicLinks) { $0.with(\.$topic) }.with(\.$text).first()
        guard let article else { throw EditorialError.notFound }
        let revision = try await ArticleRevision.query(on: req.db).filter(\.$article.$id == article.requireID()).max(\.$number)
        let edition = editions[article.edition] ?? editions.defaultEdition
        let image: Any = article.imagePath.map { path -> [String: Any] in
            [
                "path": path, "url": settings.publicURL + SiteURL.media(path), "width": article.imageWidth ?? NSNull(),
                "height": article.imageHeight ?? NSNull(), "alt": article.imageAlt, "caption": article.imageCaption, "credit": article.imageCredit,
            ]
        } ?? NSNull()
        return try json(["article": [
            "id": try article.requireID().uuidString.lowercased(), "slug": article.slug, "edition": article.edition,
            "kind": article.kind.rawValue, "visibility": article.visibility.rawValue, "status": article.status.rawValue,
            "title": article.title, "dek": article.dek,
            "body": scopes.contains(.articlesRead) ? try article.loadedMarkdown : NSNull(),
            "url": settings.publicURL + SiteURL(edition: edition).article(article.slug),
            "published_at": article.publishedAt.map(EditionDates.iso) ?? NSNull(),
            "revision": revision ?? NSNull(),
            "authors": article.bylineAuthors.map(\.slug), "topics": article.topics.map(\.slug).sorted(),
            "image": image,
        ] as [String: Any]], status: status)
    }

    private func json(_ document: [String: Any], status: HTTPResponseStatus) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json; charset=utf-8")
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers, body: .init(data: data))
    }

    static func id(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw EditorialError.notFound }
        return id
    }

    static func date(_ text: String, field: String) throws -> Date {
        guard let date = RFC3339.date(text) else {
            throw APIError.badParameter(name: field, message: "must be a date and time with its zone, such as 2026-12-02T07:00:00Z")
        }
        return date
    }

    /// The optional body of a publish: `{"publish_at": …}` to schedule rather than publish now.
    struct PublishInput: Decodable {
        var publishAt: String?
        enum CodingKeys: String, CodingKey { case publishAt = "publish_at" }

        static func decode(_ req: Request) throws -> PublishInput? {
            guard let body = req.body.data, body.readableBytes > 0 else { return nil }
            guard let input = try? JSONDecoder().decode(PublishInput.self, from: Data(buffer: body)) else {
                throw APIError.badParameter(name: "body", message: "must be empty, or JSON such as {\"publish_at\": \"2026-12-02T07:00:00Z\"}")
            }
            return input
        }
    }
}

/// The name of the token a request came with, for the audit log.
private struct TokenNameKey: StorageKey {
    typealias Value = String
}
