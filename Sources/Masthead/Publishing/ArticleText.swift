import Fluent
import Foundation

/// What lies behind an article's paywall: its Markdown source and the rendered rest of its
/// body, kept apart from `articles` so that every public query (listings, feeds, the article
/// page before the access decision) loads the card and the preview only, and the gated text
/// is read in three places: the editor and the export, which load it with the article, and
/// the article page, which asks for it with the `FullTextGrant` that `AccessPolicy` issued.
final class ArticleText: Model, @unchecked Sendable {
    static let schema = "article_texts"

    @ID(key: .id) var id: UUID?
    @Parent(key: "article_id") var article: Article
    @Field(key: "body_markdown") var bodyMarkdown: String
    @Field(key: "rest_html") fileprivate var restHTML: String

    init() {}

    init(articleID: UUID, bodyMarkdown: String, restHTML: String) {
        self.$article.id = articleID
        self.bodyMarkdown = bodyMarkdown
        self.restHTML = restHTML
    }
}

extension Article {
    /// Replaces the body, rendering and splitting it once here rather than on every request.
    /// The preview is stored with the article; the source and the rest with its text, by
    /// `saveText(on:)` once the article has been saved.
    public func setBody(markdown: String, previewParagraphs: Int) {
        let rendered = ArticleBody(markdown: markdown, previewParagraphs: previewParagraphs)
        previewHTML = rendered.previewHTML
        hasGatedText = !rendered.restHTML.isEmpty
        unsavedText = (markdown, rendered.restHTML)
    }

    /// Stores the body given to `setBody`, in the same transaction as the article.
    func saveText(on database: any Database) async throws {
        guard let (markdown, rest) = unsavedText else { return }
        let id = try requireID()
        if let text = try await ArticleText.query(on: database).filter(\.$article.$id == id).first() {
            text.bodyMarkdown = markdown
            text.restHTML = rest
            try await text.save(on: database)
        } else {
            try await ArticleText(articleID: id, bodyMarkdown: markdown, restHTML: rest).create(on: database)
        }
        unsavedText = nil
        $text.value = try await ArticleText.query(on: database).filter(\.$article.$id == id).first()
    }

    /// The Markdown source of an article loaded with its text (`.with(\.$text)`, as the editor
    /// loads it), or given to `setBody`. Asking without loading it is a programming error.
    var loadedMarkdown: String {
        if let unsavedText { return unsavedText.markdown }
        guard let loaded = $text.value else { preconditionFailure("the article's text was not loaded with it") }
        return loaded?.bodyMarkdown ?? ""
    }

    /// The Markdown source, for the export and the settings' re-split: from the text loaded with
    /// the article, or read now.
    func markdown(on database: any Database) async throws -> String {
        if let unsavedText { return unsavedText.markdown }
        if let loaded = $text.value { return loaded?.bodyMarkdown ?? "" }
        return try await ArticleText.query(on: database).filter(\.$article.$id == requireID()).first()?.bodyMarkdown ?? ""
    }

    /// The gated part of the body for a viewer `AccessPolicy.decide` gave this access: nil for
    /// a preview. Only a grant issued for this very article opens it.
    func gatedText(for access: Access, on database: any Database) async throws -> GatedText? {
        guard case .full(let grant) = access else { return nil }
        precondition(grant.articleID == id, "a full-text grant opens only the article it was issued for")
        guard hasGatedText else { return GatedText(html: "") }
        if let unsavedText { return GatedText(html: unsavedText.restHTML) }
        return GatedText(html: try await ArticleText.query(on: database).filter(\.$article.$id == requireID()).first()?.restHTML ?? "")
    }
}

/// An article's gated HTML, as only `Article.gatedText(_:on:)` hands it out, to a viewer
/// `AccessPolicy` granted it to.
public struct GatedText: Sendable {
    public let html: String
    fileprivate init(html: String) {
        self.html = html
    }
}
