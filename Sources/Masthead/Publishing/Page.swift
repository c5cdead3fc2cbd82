import Fluent
import Foundation
import Ink

/// A standing page of one edition (about us, contact, ethics, privacy): written in Markdown
/// like an article, but with no byline, kind, topics or paywall; every reader may read it.
final class Page: Model, @unchecked Sendable {
    static let schema = "pages"

    @ID(key: .id) var id: UUID?
    @Field(key: "edition") var edition: String
    @Field(key: "slug") var slug: String
    @Field(key: "title") var title: String
    @Field(key: "markdown") var markdown: String
    /// The Markdown rendered and sanitised when saved, as an article's body is.
    @Field(key: "html") var html: String
    @Field(key: "published") var published: Bool
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(edition: String, slug: String, title: String, markdown: String, published: Bool, at date: Date) {
        self.edition = edition
        self.slug = slug
        self.title = title
        self.published = published
        createdAt = date
        updatedAt = date
        setBody(markdown: markdown)
    }

    func setBody(markdown: String) {
        self.markdown = markdown
        html = BodyHTML.sanitized(MarkdownParser().html(from: markdown))
    }
}
