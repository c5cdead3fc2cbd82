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
    @Field(key: "preview_html") public internal(set) var previewHTML: String
    /// Whether anything lies behind the paywall at all (a short piece may fit in its preview).
    @Field(key: "has_gated_text") public internal(set) var hasGatedText: Bool
    /// The source and the gated rest of the body, loaded only where asked for (`ArticleText`).
    @OptionalChild(for: \.$article) var text: ArticleText?
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
    /// Whether it takes comments: as its kind does, or open or closed for it alone.
    @Enum(key: "comments") var comments: CommentsChoice
    @Children(for: \.$article) public var authorCredits: [ArticleAuthor]
    @Children(for: \.$article) public var topicLinks: [ArticleTopic]
    @Children(for: \.$article) public var corrections: [Correction]
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?
    /// A body given to `setBody` and not yet stored by `saveText(on:)`.
    var unsavedText: (markdown: String, restHTML: String)?

    public init() {
        comments = .byKind
    }

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
        self.previewHTML = ""
        self.hasGatedText = false
        self.imageAlt = ""
        self.imageCaption = ""
        self.imageCredit = ""
        self.comments = .byKind
    }

    /// The last time readers saw the content change: the correction time, else publication.
    public var lastModified: Date? { contentUpdatedAt ?? publishedAt }
}
