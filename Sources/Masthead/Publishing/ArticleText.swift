import Fluent
import Foundation
import SQLKit

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
        var existing = $text.value ?? nil
        if existing == nil { existing = try await ArticleText.query(on: database).filter(\.$article.$id == id).first() }
        let text: ArticleText
        if let existing {
            text = existing
            if text.bodyMarkdown != markdown { text.bodyMarkdown = markdown }
            if text.restHTML != rest { text.restHTML = rest }
            try await text.save(on: database)
        } else {
            text = ArticleText(articleID: id, bodyMarkdown: markdown, restHTML: rest)
            try await text.create(on: database)
        }
        unsavedText = nil
        $text.value = text
    }

    /// The Markdown source of an article loaded with its text (`.with(\.$text)`, as the editor
    /// and the export load it), or given to `setBody`. A saved article without its text row is
    /// an error, never an empty body: an editor would save it, a backup would lose it.
    var loadedMarkdown: String {
        get throws {
            if let unsavedText { return unsavedText.markdown }
            guard let loaded = $text.value else { preconditionFailure("the article's text was not loaded with it") }
            guard let text = loaded else { throw ArticleTextMissing(articleID: id) }
            return text.bodyMarkdown
        }
    }

    /// The gated part of the body for a viewer `AccessPolicy.decide` gave this access: nil for
    /// a preview. Only a grant issued for this very article opens it, and only while the
    /// article's visibility is still the one the decision saw: the text is read in a second
    /// statement, and an edit that made the article paid in between must not slip through.
    func gatedText(for access: Access, on database: any Database) async throws -> GatedText? {
        guard case .full = access else { return nil }
        return try await Self.gatedTexts([(self, access)], on: database)[try requireID()]
    }
}

extension Article {
    /// `gatedText(for:on:)` for many articles in one statement, each under the same rules: the
    /// text only for a grant issued for that article, and only while its visibility is still
    /// the one the decision saw. For a page of search results, which may quote any of them.
    static func gatedTexts(_ decisions: [(article: Article, access: Access)], on database: any Database) async throws -> [UUID: GatedText] {
        var texts: [UUID: GatedText] = [:]
        var decidedVisibility: [UUID: Visibility] = [:]
        for (article, access) in decisions {
            guard case .full(let grant) = access else { continue }
            guard let id = article.id, grant.articleID == id else { throw ArticleTextMissing(articleID: article.id) }
            if !article.hasGatedText {
                texts[id] = GatedText(articleID: id, html: "")
            } else if let unsavedText = article.unsavedText {
                texts[id] = GatedText(articleID: id, html: unsavedText.restHTML)
            } else {
                decidedVisibility[id] = article.visibility
            }
        }
        guard !decidedVisibility.isEmpty else { return texts }
        let rows = try await (database as! any SQLDatabase).raw("""
            SELECT t.article_id, a.visibility, t.rest_html FROM article_texts t JOIN articles a ON a.id = t.article_id
            WHERE t.article_id IN (\(binds: Array(decidedVisibility.keys)))
            """).all()
        for row in rows {
            let id = try row.decode(column: "article_id", as: UUID.self)
            guard let decided = decidedVisibility[id], try row.decode(column: "visibility", as: String.self) == decided.rawValue else { continue }
            texts[id] = GatedText(articleID: id, html: try row.decode(column: "rest_html", as: String.self))
        }
        for id in decidedVisibility.keys where texts[id] == nil { texts[id] = GatedText(articleID: id, html: "") }
        return texts
    }
}

extension Article {
    /// The gated rest of each article's body, by article, for the search index alone, which
    /// files its words only where viewers who may read the article's visibility match them
    /// (`SearchDocument`).
    static func searchableRestHTML(of articleIDs: [UUID], on database: any Database) async throws -> [UUID: String] {
        guard !articleIDs.isEmpty else { return [:] }
        let rows = try await (database as! any SQLDatabase).raw("""
            SELECT article_id, rest_html FROM article_texts WHERE article_id IN (\(binds: articleIDs))
            """).all()
        var texts: [UUID: String] = [:]
        for row in rows { texts[try row.decode(column: "article_id", as: UUID.self)] = try row.decode(column: "rest_html", as: String.self) }
        return texts
    }
}

/// An article's gated HTML, as only `Article.gatedText(for:on:)` hands it out, to a viewer
/// `AccessPolicy` granted it to, and only for that article.
public struct GatedText: Sendable {
    let articleID: UUID
    public let html: String
    fileprivate init(articleID: UUID, html: String) {
        self.articleID = articleID
        self.html = html
    }
}

/// A saved article's text row is missing, or a grant was asked for with another article.
struct ArticleTextMissing: Error, CustomStringConvertible {
    let articleID: UUID?
    var description: String { "the text of article \(articleID?.uuidString ?? "(unsaved)") is missing" }
}
