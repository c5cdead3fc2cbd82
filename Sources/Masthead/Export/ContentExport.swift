import Fluent
import Foundation

/// The outlet's whole content as one JSON document: its own backup, and the shape a future
/// import will read. Bodies are exported as their Markdown source, paywall marker included.
public struct ContentExport: Encodable {
    struct ExportedAuthor: Encodable {
        let slug: String
        let name: String
        let bio: String
        let bios: [String: String]
        let photo: String?
    }

    struct ExportedTopic: Encodable {
        let slug: String
        let kind: TopicKind
        let names: [String: String]
        let descriptions: [String: String]
        let aliases: [String]
    }

    struct ExportedArticle: Encodable {
        let slug: String
        let edition: String
        let kind: ArticleKind
        let status: ArticleStatus
        let visibility: Visibility
        let title: String
        let dek: String
        let bodyMarkdown: String
        let publishedAt: Date?
        let contentUpdatedAt: Date?
        let image: String?
        let imageAlt: String
        let imageCaption: String
        let imageCredit: String
        let translationGroup: UUID?
        let authors: [String]
        let topics: [String]
    }

    let format = "masthead-export"
    let version = 1
    let exportedAt: Date
    let authors: [ExportedAuthor]
    let topics: [ExportedTopic]
    let articles: [ExportedArticle]

    public static func make(from database: any Database, now: Date = Date()) async throws -> ContentExport {
        let authors = try await Author.query(on: database).sort(\.$slug).all()
        let topics = try await Topic.query(on: database).with(\.$names).sort(\.$slug).all()
        let articles = try await Article.query(on: database)
            .with(\.$authorCredits) { $0.with(\.$author) }
            .with(\.$topicLinks) { $0.with(\.$topic) }
            .with(\.$text)
            .sort(\.$edition).sort(\.$publishedAt).sort(\.$slug)
            .all()
        return ContentExport(
            exportedAt: now,
            authors: authors.map { .init(slug: $0.slug, name: $0.name, bio: $0.bio, bios: $0.bios, photo: $0.photoPath) },
            topics: topics.map { topic in
                .init(
                    slug: topic.slug, kind: topic.kind,
                    names: Dictionary(uniqueKeysWithValues: topic.names.map { ($0.edition, $0.name) }),
                    descriptions: Dictionary(uniqueKeysWithValues: topic.names.map { ($0.edition, $0.description) }),
                    aliases: topic.aliasList
                )
            },
            articles: try articles.map { article in
                .init(
                    slug: article.slug, edition: article.edition, kind: article.kind, status: article.status,
                    visibility: article.visibility, title: article.title, dek: article.dek,
                    bodyMarkdown: try article.loadedMarkdown, publishedAt: article.publishedAt,
                    contentUpdatedAt: article.contentUpdatedAt, image: article.imagePath,
                    imageAlt: article.imageAlt, imageCaption: article.imageCaption, imageCredit: article.imageCredit,
                    translationGroup: article.translationGroup,
                    authors: article.bylineAuthors.map(\.slug), topics: article.topics.map(\.slug).sorted()
                )
            }
        )
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }
}
