import Fluent
import Foundation
import Vapor

/// RSS, Atom and JSON Feed for every edition, kind, topic and author, and one for the whole
/// site: served from the page cache like pages, with ETag and Last-Modified for conditional GET.
struct FeedController: Sendable {
    static let itemCount = 30

    let responder: CachedResponder
    let settings: Settings
    let editions: EditionCatalog

    func register(on routes: any RoutesBuilder) {
        for format in FeedFormat.allCases {
            let file = PathComponent.constant(format.fileName)
            routes.get(.constant(String(SiteURL.everythingFeeds.dropFirst().dropLast())), file) { everything($0, format: format) }
            for edition in editions.all {
                let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
                group.get(file) { home($0, edition: edition, format: format) }
                for kind in ArticleKind.allCases {
                    group.get(.constant(kind.pathSegment), file) { self.kind($0, kind, edition: edition, format: format) }
                }
                group.get(.constant(SiteURL.topics), ":slug", file) { try topic($0, edition: edition, format: format) }
                group.get(.constant(SiteURL.authors), ":slug", file) { try author($0, edition: edition, format: format) }
            }
        }
    }

    private func everything(_ req: Request, format: FeedFormat) -> EventLoopFuture<Response> {
        let edition = editions.defaultEdition
        return serve(req, format: format, document: "feed/all") { published in
            (
                title: edition.text("feed_all_title", ["site": settings.siteName]),
                description: edition.text("site_description", ["site": settings.siteName]),
                language: nil, basePath: SiteURL.everythingFeeds, homePath: SiteURL(edition: edition).home,
                articles: try await published.feed(edition: nil, limit: Self.itemCount)
            )
        }
    }

    private func home(_ req: Request, edition: Edition, format: FeedFormat) -> EventLoopFuture<Response> {
        let urls = SiteURL(edition: edition)
        return serve(req, format: format, document: "feed/\(edition.code)") { published in
            (
                title: edition.text("feed_edition_title", ["site": settings.siteName]),
                description: edition.text("site_description", ["site": settings.siteName]),
                language: edition.code, basePath: urls.homeFeeds, homePath: urls.home,
                articles: try await published.feed(edition: edition.code, limit: Self.itemCount)
            )
        }
    }

    private func kind(_ req: Request, _ kind: ArticleKind, edition: Edition, format: FeedFormat) -> EventLoopFuture<Response> {
        let urls = SiteURL(edition: edition)
        return serve(req, format: format, document: "feed/\(edition.code)/kind/\(kind.rawValue)") { published in
            (
                title: listingTitle(edition.text("kinds_\(kind.rawValue)"), edition: edition),
                description: edition.text("kinds_\(kind.rawValue)_description", ["site": settings.siteName]),
                language: edition.code, basePath: urls.kindFeeds(kind), homePath: urls.kind(kind),
                articles: try await published.feed(edition: edition.code, kind: kind, limit: Self.itemCount)
            )
        }
    }

    private func topic(_ req: Request, edition: Edition, format: FeedFormat) throws -> EventLoopFuture<Response> {
        let slug = try SiteController.slug(req)
        let urls = SiteURL(edition: edition)
        return serve(req, format: format, document: "feed/\(edition.code)/topic/\(slug)") { published in
            guard let topic = try await published.topic(slug: slug), let id = topic.id else { throw SiteError.notFound }
            let name = topic.name(in: edition.code)
            let description = topic.description(in: edition.code)
            return (
                title: listingTitle(name, edition: edition), description: description.isEmpty ? name : description,
                language: edition.code, basePath: urls.topicFeeds(slug), homePath: urls.topic(slug),
                articles: try await published.feed(edition: edition.code, topicID: id, limit: Self.itemCount)
            )
        }
    }

    private func author(_ req: Request, edition: Edition, format: FeedFormat) throws -> EventLoopFuture<Response> {
        let slug = try SiteController.slug(req)
        let urls = SiteURL(edition: edition)
        return serve(req, format: format, document: "feed/\(edition.code)/author/\(slug)") { published in
            guard let author = try await published.author(slug: slug), let id = author.id else { throw SiteError.notFound }
            return (
                title: listingTitle(author.name, edition: edition), description: author.bio(in: edition.code).isEmpty ? author.name : author.bio(in: edition.code),
                language: edition.code, basePath: urls.authorFeeds(slug), homePath: urls.author(slug),
                articles: try await published.feed(edition: edition.code, authorID: id, limit: Self.itemCount)
            )
        }
    }

    private func listingTitle(_ title: String, edition: Edition) -> String {
        edition.text("feed_listing_title", ["title": title, "site": settings.siteName])
    }

    private typealias Channel = (title: String, description: String, language: String?, basePath: String, homePath: String, articles: [Article])

    /// One feed in one format; the content is fetched once per format and cache generation.
    private func serve(
        _ req: Request, format: FeedFormat, document: String,
        channel: @escaping @Sendable (PublishedArticles) async throws -> Channel
    ) -> EventLoopFuture<Response> {
        let settings = settings
        let editions = editions
        return responder.respondAlike(req, document: "\(document)/\(format.fileName)", contentType: format.contentType) {
            let channel = try await channel(PublishedArticles(database: req.pageDB))
            let feed = Feed(
                title: channel.title, description: channel.description, language: channel.language,
                basePath: channel.basePath, homeURL: settings.publicURL + channel.homePath, siteName: settings.siteName,
                publicURL: settings.publicURL, logoURL: settings.logoPath.map { settings.publicURL + SiteURL.media($0) },
                items: try await FeedItems(editions: editions, settings: settings, database: req.pageDB).items(channel.articles)
            )
            return (format.write(feed), feed.items.isEmpty ? nil : feed.updated)
        }
    }
}

/// The `<link rel="alternate">` elements that let browsers and feed readers find a page's feeds.
enum FeedDiscovery {
    static func links(basePath: String, title: String, publicURL: String) -> [LayoutModel.FeedLink] {
        FeedFormat.allCases.map { format in
            let name = switch format {
            case .rss: "RSS"
            case .atom: "Atom"
            case .json: "JSON Feed"
            }
            return .init(type: format.linkType, title: "\(title) (\(name))", url: publicURL + basePath + format.fileName)
        }
    }
}
