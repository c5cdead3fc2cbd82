import Foundation
import SQLKit

/// The published articles behind a page of hits, with their bylines, as result cards and
/// snippets need them: two queries, decoded column by column. Fluent decodes a model through
/// reflection, field by field, and for twenty articles and their authors that was a sixth of
/// a search's time on the event loop. Each author holds its id, slug and name only: a card
/// that came to show more would have to read it here.
enum SearchCards {
    static func load(_ ids: [UUID], on sql: any SQLDatabase) async throws -> [UUID: Article] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT id, slug, edition, kind, status, visibility, title, dek, preview_html, has_gated_text, published_at,
                   content_updated_at, image_path, image_width, image_height, image_alt, image_caption, image_credit,
                   translation_group, seo_title, seo_description, created_by, comments
            FROM articles WHERE id IN (\(binds: ids)) AND status = \(bind: ArticleStatus.published.rawValue)
            """).all()
        var articles: [UUID: Article] = [:]
        for row in rows {
            let article = try Self.article(row)
            article.$authorCredits.value = []
            articles[try article.requireID()] = article
        }
        guard !articles.isEmpty else { return [:] }
        let credits = try await sql.raw("""
            SELECT c.article_id, c.position, u.id, u.slug, u.name FROM article_authors c JOIN authors u ON u.id = c.author_id
            WHERE c.article_id IN (\(binds: Array(articles.keys)))
            """).all()
        for row in credits {
            guard let article = articles[try row.decode(column: "article_id", as: UUID.self)] else { continue }
            let author = Author()
            author.id = try row.decode(column: "id", as: UUID.self)
            author.slug = try row.decode(column: "slug", as: String.self)
            author.name = try row.decode(column: "name", as: String.self)
            let credit = ArticleAuthor(articleID: try article.requireID(), authorID: try author.requireID(), position: try row.decode(column: "position", as: Int.self))
            credit.$author.value = author
            article.$authorCredits.value?.append(credit)
        }
        return articles
    }

    private static func article(_ row: any SQLRow) throws -> Article {
        let article = Article(
            slug: try row.decode(column: "slug", as: String.self), edition: try row.decode(column: "edition", as: String.self),
            kind: try row.decode(column: "kind", as: ArticleKind.self), status: try row.decode(column: "status", as: ArticleStatus.self),
            visibility: try row.decode(column: "visibility", as: Visibility.self), title: try row.decode(column: "title", as: String.self),
            dek: try row.decode(column: "dek", as: String.self), publishedAt: try row.decode(column: "published_at", as: Date?.self)
        )
        article.id = try row.decode(column: "id", as: UUID.self)
        article.previewHTML = try row.decode(column: "preview_html", as: String.self)
        article.hasGatedText = try row.decode(column: "has_gated_text", as: Bool.self)
        article.contentUpdatedAt = try row.decode(column: "content_updated_at", as: Date?.self)
        article.imagePath = try row.decode(column: "image_path", as: String?.self)
        article.imageWidth = try row.decode(column: "image_width", as: Int?.self)
        article.imageHeight = try row.decode(column: "image_height", as: Int?.self)
        article.imageAlt = try row.decode(column: "image_alt", as: String.self)
        article.imageCaption = try row.decode(column: "image_caption", as: String.self)
        article.imageCredit = try row.decode(column: "image_credit", as: String.self)
        article.translationGroup = try row.decode(column: "translation_group", as: UUID?.self)
        article.seoTitle = try row.decode(column: "seo_title", as: String?.self)
        article.seoDescription = try row.decode(column: "seo_description", as: String?.self)
        article.createdBy = try row.decode(column: "created_by", as: UUID?.self)
        article.comments = try row.decode(column: "comments", as: CommentsChoice.self)
        return article
    }
}
