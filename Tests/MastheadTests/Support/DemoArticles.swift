import Fluent
import Foundation
@testable import Masthead

/// Finds demo articles by what a test needs of them, so tests do not hard-code demo slugs.
enum DemoArticles {
    /// The newest ordinary article: not one of the demo's live stories, whose page differs.
    static func first(on site: TestSite, edition: String, visibility: Visibility) async throws -> Article {
        let live = Set(try await LiveStory.query(on: site.app.db).all().compactMap(\.id))
        let article = try await Article.query(on: site.app.db).with(\.$text)
            .filter(\.$edition == edition).filter(\.$visibility == visibility).filter(\.$status == .published)
            .sort(\.$publishedAt, .descending)
            .all()
            .first { !live.contains($0.id!) && (visibility == .public || $0.hasGatedText) }
        guard let article else { throw TestSupportError("the demo has no \(visibility) article in \(edition)") }
        return article
    }

    static func firstTranslated(on site: TestSite, edition: String) async throws -> Article {
        guard let article = try await Article.query(on: site.app.db).with(\.$text)
            .filter(\.$edition == edition).filter(\.$translationGroup != nil).first()
        else { throw TestSupportError("the demo has no translated article in \(edition)") }
        return article
    }

    static func all(on site: TestSite) async throws -> [Article] {
        try await Article.query(on: site.app.db).with(\.$text).all()
    }

    /// Plain-text sentences of an article's gated text, long enough to be distinctive; compare them
    /// with `HTML.text(of:)`, never with raw HTML, so an entity cannot hide a leak.
    static func gatedSentences(of article: Article) -> [String] {
        let rest = ArticleBody.split(article.markdownSource, previewParagraphs: 3).rest
        return rest.components(separatedBy: CharacterSet(charactersIn: ".!?؟\n"))
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "#>- ")) }
            .filter { $0.count >= 40 && !$0.contains("*") && !$0.contains("_") && !$0.contains("`") }
            .map { String($0.prefix(80)) }
    }
}

extension Article {
    /// The Markdown source of an article loaded with its text; empty when it has none, which
    /// any comparison with the expected text then shows.
    var markdownSource: String { (try? loadedMarkdown) ?? "" }
}
