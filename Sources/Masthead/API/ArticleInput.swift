import Fluent
import Foundation
import Vapor

/// An article as the Admin API takes it: JSON with authors and topics by slug and the lead image
/// by the path an upload answered with. Decoding problems come back as a 400 naming the field.
struct ArticleInput: Decodable {
    var title: String
    var dek: String?
    var slug: String?
    var edition: String
    var kind: ArticleKind
    var visibility: Visibility
    var body: String
    var authors: [String]
    var topics: [String]?
    var image: String?
    var imageAlt: String?
    var imageCaption: String?
    var imageCredit: String?
    var seoTitle: String?
    var seoDescription: String?
    /// `draft` (the default: kept as it is), `published`, or `scheduled` with `publish_at`.
    var status: String?
    var publishAt: String?
    /// The revision the client's copy is based on; when someone saved since, nothing is written.
    var revision: Int?

    enum CodingKeys: String, CodingKey {
        case title, dek, slug, edition, kind, visibility, body, authors, topics, image, status, revision
        case imageAlt = "image_alt", imageCaption = "image_caption", imageCredit = "image_credit"
        case seoTitle = "seo_title", seoDescription = "seo_description", publishAt = "publish_at"
    }

    static func decode(_ req: Request) throws -> ArticleInput {
        guard req.headers.contentType == .json else {
            throw APIError.badParameter(name: "body", message: "must be JSON, sent with Content-Type: application/json")
        }
        guard let body = req.body.data else { throw APIError.badParameter(name: "body", message: "is empty") }
        do {
            return try JSONDecoder().decode(ArticleInput.self, from: Data(buffer: body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError.badParameter(name: key.stringValue, message: "is required")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw APIError.badParameter(name: Self.path(context), message: "has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw APIError.badParameter(name: Self.path(context), message: context.codingPath.isEmpty ? "is not valid JSON" : "is not one of the values it may take")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "body" : context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    /// What saving does to the article's status; publishing needs the token's publish scope.
    func action(scopes: Set<AdminAPIScope>) throws -> ArticleEditor.Action {
        let scheduledFor = try publishAt.map { try AdminAPIController.date($0, field: "publish_at") }
        let action: ArticleEditor.Action
        switch status ?? "draft" {
        case "draft": action = .save
        case "published": action = .publish
        case "scheduled":
            guard let scheduledFor else { throw APIError.badParameter(name: "publish_at", message: "is required to schedule") }
            action = .schedule(scheduledFor)
        default: throw APIError.badParameter(name: "status", message: "must be draft, published or scheduled")
        }
        if action != .save, !scopes.contains(.articlesPublish) { throw APIError.insufficientScope(AdminAPIScope.articlesPublish.rawValue) }
        return action
    }

    /// The editor's draft: slugs resolved to ids, the image's size read from its file.
    func draft(on database: any Database, mediaDirectory: String) async throws -> ArticleDraft {
        // PostgreSQL stores no NUL character in text, and no article needs one.
        let texts: [(String, String?)] = [
            ("title", title), ("dek", dek), ("slug", slug), ("body", body), ("image_alt", imageAlt), ("image_caption", imageCaption),
            ("image_credit", imageCredit), ("seo_title", seoTitle), ("seo_description", seoDescription),
        ]
        for (field, text) in texts where text?.unicodeScalars.contains("\u{0}") == true {
            throw APIError.badParameter(name: field, message: "contains a NUL character")
        }
        var authorIDs: [UUID] = []
        for slug in authors {
            guard Slug.isValid(slug), let id = try await Author.query(on: database).filter(\.$slug == slug).first()?.id else {
                throw APIError.badParameter(name: "authors", message: "no author has the slug `\(slug.prefix(60))`")
            }
            authorIDs.append(id)
        }
        var topicIDs: [UUID] = []
        for slug in topics ?? [] {
            guard Slug.isValid(slug), let id = try await Topic.query(on: database).filter(\.$slug == slug).first()?.id else {
                throw APIError.badParameter(name: "topics", message: "no topic has the slug `\(slug.prefix(60))`")
            }
            topicIDs.append(id)
        }
        var lead: ArticleDraft.Image?
        if let image {
            guard MediaFileName.isValid(image), let data = FileManager.default.contents(atPath: "\(mediaDirectory)/\(image)"),
                  let format = ImageFormat(data), let size = format.pixelSize(of: data)
            else { throw APIError.badParameter(name: "image", message: "must be the path an upload to /api/admin/v1/images answered with") }
            lead = .init(path: image, width: size.width, height: size.height)
        }
        return ArticleDraft(
            title: title, dek: dek ?? "", slug: slug ?? "", edition: edition, kind: kind, visibility: visibility, body: body,
            authorIDs: authorIDs, topicIDs: topicIDs, image: lead, imageAlt: imageAlt ?? "", imageCaption: imageCaption ?? "",
            imageCredit: imageCredit ?? "", seoTitle: seoTitle ?? "", seoDescription: seoDescription ?? ""
        )
    }
}
