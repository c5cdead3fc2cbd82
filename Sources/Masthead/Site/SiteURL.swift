import Foundation
/// Every public URL of an edition, built from the same segments the router registers,
/// so that a renamed route cannot leave a dead link behind.
public struct SiteURL: Sendable {
    static let articles = "articles"
    static let topics = "topics"
    static let authors = "authors"
    static let pages = "pages"
    static let media = "media"
    static let live = "live"
    static let liveEvents = "events"

    /// A live story's event stream: one address for every edition, by the article's id.
    static func liveEvents(_ articleID: UUID) -> String { "/\(live)/\(articleID.uuidString.lowercased())/\(liveEvents)" }
    static let liveOlder = "updates"

    /// A live story's earlier updates, those numbered below `before` (from the newest without it).
    static func liveOlder(_ articleID: UUID, before: Int64? = nil) -> String {
        "/\(live)/\(articleID.uuidString.lowercased())/\(liveOlder)" + (before.map { "?before=\($0)" } ?? "")
    }

    public let edition: Edition

    public var home: String { edition.pathPrefix + "/" }

    public func article(_ slug: String) -> String {
        "\(edition.pathPrefix)/\(Self.articles)/\(slug)"
    }

    /// A standing page (about us, contact).
    public func page(_ slug: String) -> String {
        "\(edition.pathPrefix)/\(Self.pages)/\(slug)"
    }

    public func kind(_ kind: ArticleKind, page: Int = 1) -> String {
        paged("\(edition.pathPrefix)/\(kind.pathSegment)", page: page)
    }

    public func topic(_ slug: String, page: Int = 1) -> String {
        paged("\(edition.pathPrefix)/\(Self.topics)/\(slug)", page: page)
    }

    public func author(_ slug: String, page: Int = 1) -> String {
        paged("\(edition.pathPrefix)/\(Self.authors)/\(slug)", page: page)
    }

    public var search: String { "\(edition.pathPrefix)/\(SearchController.segment)" }

    public var openSearch: String { "\(edition.pathPrefix)/\(SearchController.openSearchFile)" }

    /// Where a feed's files live (`feed.xml`, `atom.xml`, `feed.json`): beside the page it follows.
    public var homeFeeds: String { home }

    public func kindFeeds(_ kind: ArticleKind) -> String {
        "\(edition.pathPrefix)/\(kind.pathSegment)/"
    }

    public func topicFeeds(_ slug: String) -> String {
        "\(edition.pathPrefix)/\(Self.topics)/\(slug)/"
    }

    public func authorFeeds(_ slug: String) -> String {
        "\(edition.pathPrefix)/\(Self.authors)/\(slug)/"
    }

    /// The feed of every edition at once.
    public static let everythingFeeds = "/all/"

    public static func media(_ path: String) -> String {
        "/\(media)/\(path)"
    }

    private func paged(_ path: String, page: Int) -> String {
        page > 1 ? "\(path)?page=\(page)" : path
    }
}
