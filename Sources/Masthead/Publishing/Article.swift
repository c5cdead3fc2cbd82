import Fluent
import Foundation

/// A piece of journalism in one edition.
///
/// The body is rendered from Markdown when it is saved and kept in two parts: `previewHTML`,
/// which anyone may see, and the rest, which is private to this file and handed out only in
/// exchange for a `FullTextGrant`, a value that only `AccessPolicy.decide` can create.
public final class Article: Model, @unchecked Sendable {
    public static let schema = "articles"

    @ID(key: .id) public var id: UUID?
    @Field(key: "slug") public var slug: String
    @Field(key: "edition") public var edition: String
    @Enum(key: "kind") public var kind: ArticleKind
    @Enum(key: "status") public var status: ArticleStatus
    @Enum(key: "visibility") public var visibility: Visibility
    @Field(key: "title") public var title: String
    @Field(key: "dek") public var dek: String
    @Field(key: "body_markdown") public internal(set) var bodyMarkdown: String
    @Field(key: "preview_html") public private(set) var previewHTML: String
    @Field(key: "rest_html") private var restHTML: String
    @OptionalField(key: "published_at") public var publishedAt: Date?
    @OptionalField(key: "content_updated_at") public var contentUpdatedAt: Date?
    @OptionalField(key: "image_path") public var imagePath: String?
    @OptionalField(key: "image_width") public var imageWidth: Int?
    @OptionalField(key: "image_height") public var imageHeight: Int?
    @Field(key: "image_alt") public var imageAlt: String
    @Field(key: "image_caption") public var imageCaption: String
    @Field(key: "image_credit") public var imageCredit: String
    @OptionalField(key: "translation_group") public var translationGroup: UUID?
    @OptionalField(key: "seo_title") public var seoTitle: String?
    @OptionalField(key: "seo_description") public var seoDescription: String?
    /// The staff member who started the article: authors and contributors may edit only their own.
    @OptionalField(key: "created_by") public var createdBy: UUID?
    @Children(for: \.$article) public var authorCredits: [ArticleAuthor]
    @Children(for: \.$article) public var topicLinks: [ArticleTopic]
    @Children(for: \.$article) public var corrections: [Correction]
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    public init(
        slug: String, edition: String, kind: ArticleKind, status: ArticleStatus, visibility: Visibility,
        title: String, dek: String, publishedAt: Date?
    ) {
        self.slug = slug
        self.edition = edition
        self.kind = kind
        self.status = status
        self.visibility = visibility
        self.title = title
        self.dek = dek
        self.publishedAt = publishedAt
        self.bodyMarkdown = ""
        self.previewHTML = ""
        self.restHTML = ""
        self.imageAlt = ""
        self.imageCaption = ""
        self.imageCredit = ""
    }

    /// Replaces the body, rendering and splitting it once here rather than on every request.
    public func setBody(markdown: String, previewParagraphs: Int) {
        let rendered = ArticleBody(markdown: markdown, previewParagraphs: previewParagraphs)
        bodyMarkdown = markdown
        previewHTML = rendered.previewHTML
        restHTML = rendered.restHTML
    }

    /// The gated part of the body. Only a grant issued for this very article opens it.
    public func restHTML(_ grant: FullTextGrant) -> String {
        precondition(grant.articleID == id, "a full-text grant opens only the article it was issued for")
        return restHTML
    }

    /// Whether anything lies behind the paywall at all (a short piece may fit in its preview).
    public var hasGatedText: Bool { !restHTML.isEmpty }

    /// The last time readers saw the content change: the correction time, else publication.
    public var lastModified: Date? { contentUpdatedAt ?? publishedAt }
}
