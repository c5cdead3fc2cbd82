import Fluent
import Foundation

/// One feed's content, whatever its format: the channel and its newest articles, each as an
/// anonymous reader may read it. RSS, Atom and JSON Feed are written from it.
struct Feed: Sendable {
    struct Item: Sendable {
        /// `urn:uuid:` of the article: stable across edits, retitling and a changed slug.
        let id: String
        let url: String
        let title: String
        let summary: String
        /// The whole text for a public article; the preview and a link to the rest otherwise.
        let contentHTML: String
        let isAccessibleForFree: Bool
        let published: Date
        let modified: Date
        let authors: [Person]
        let categories: [Category]
        let language: String
        let image: Image?
    }

    struct Person: Sendable {
        let name: String
        let url: String
    }

    struct Category: Sendable {
        let term: String
        let label: String
    }

    struct Image: Sendable {
        let url: String
        let mediaType: String
        let width: Int?
        let height: Int?
        let alt: String
        let caption: String
        let credit: String
    }

    let title: String
    let description: String
    /// Nil for the feed of every edition, whose items carry their own languages.
    let language: String?
    /// Where the feed's files live, e.g. `/ar/topics/iraq/`; each format adds its file name.
    let basePath: String
    let homeURL: String
    let siteName: String
    let publicURL: String
    let logoURL: String?
    let items: [Item]

    var updated: Date { items.map(\.modified).max() ?? Date(timeIntervalSince1970: 0) }

    func url(_ format: FeedFormat) -> String { publicURL + basePath + format.fileName }
}

/// The feed formats Masthead writes, each at its own file name under a feed's path.
enum FeedFormat: String, CaseIterable, Sendable {
    case rss, atom, json

    var fileName: String {
        switch self {
        case .rss: "feed.xml"
        case .atom: "atom.xml"
        case .json: "feed.json"
        }
    }

    var contentType: String {
        switch self {
        case .rss: "application/rss+xml; charset=utf-8"
        case .atom: "application/atom+xml; charset=utf-8"
        case .json: "application/feed+json; charset=utf-8"
        }
    }

    /// The media type autodiscovery links name (without parameters).
    var linkType: String { String(contentType.prefix { $0 != ";" }) }

    func write(_ feed: Feed) -> String {
        switch self {
        case .rss: RSSWriter.write(feed)
        case .atom: AtomWriter.write(feed)
        case .json: JSONFeedWriter.write(feed)
        }
    }
}

/// Shapes published articles into feed items, through the same access decision as the pages:
/// a feed is public, so it carries exactly what an anonymous reader may read.
struct FeedItems {
    let editions: EditionCatalog
    let settings: Settings
    let database: any Database

    func items(_ articles: [Article]) async throws -> [Feed.Item] {
        var items: [Feed.Item] = []
        items.reserveCapacity(articles.count)
        for article in articles {
            guard let edition = editions[article.edition], let id = article.id else { continue }
            items.append(try await item(article, id: id, edition: edition))
        }
        return items
    }

    private func item(_ article: Article, id: UUID, edition: Edition) async throws -> Feed.Item {
        let publicURL = settings.publicURL
        let urls = SiteURL(edition: edition)
        let url = publicURL + urls.article(article.slug)
        let access = AccessPolicy.decide(article: article, viewer: .anonymous, meter: .none)
        var content = article.previewHTML
        if let rest = try await article.gatedText(for: access, on: database) {
            content += rest.html
        } else {
            let invitation = edition.text("feed_continue", ["site": settings.siteName])
            content += "<p><a href=\"\(HTMLText.escape(url))\">\(HTMLText.escape(invitation))</a></p>"
        }
        let published = article.publishedAt ?? Date()
        return Feed.Item(
            id: "urn:uuid:\(id.uuidString.lowercased())",
            url: url,
            title: article.title,
            summary: article.dek,
            contentHTML: HTMLText.absoluteLinks(content, publicURL: publicURL),
            isAccessibleForFree: access.isFull && article.visibility == .public,
            published: published,
            modified: article.lastModified ?? published,
            authors: article.bylineAuthors.map { .init(name: $0.name, url: publicURL + urls.author($0.slug)) },
            categories: [.init(term: article.kind.rawValue, label: edition.text("kind_\(article.kind.rawValue)"))]
                + article.topics.map { .init(term: $0.slug, label: $0.name(in: edition.code)) },
            language: edition.code,
            image: article.imagePath.map {
                .init(
                    url: publicURL + SiteURL.media($0), mediaType: MediaType.forFileName($0) ?? "image/jpeg",
                    width: article.imageWidth, height: article.imageHeight,
                    alt: article.imageAlt, caption: article.imageCaption, credit: article.imageCredit
                )
            }
        )
    }
}
