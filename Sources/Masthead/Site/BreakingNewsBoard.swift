import Fluent
import Foundation
import Synchronization

/// The breaking-news banners this instance shows, per edition, kept in memory so that a page
/// render reads them without the database. The generation watcher reloads them whenever the
/// content generation moves (a flag, an early end, an expiry, an unpublish) before the caches
/// adopt the new generation, so a page cached under a generation shows that generation's banner.
public final class BreakingNewsBoard: Sendable {
    struct Banner: Sendable, Equatable {
        let edition: String
        let headline: String
        let articleSlug: String
        let endsAt: Date
    }

    private let banners = Mutex<[Banner]>([])

    public init() {}

    /// The edition's banner now: none once its time is up, even before the expiry reaches
    /// this instance, so that no page rendered after it shows the banner.
    func banner(for edition: String, at now: Date = Date()) -> Banner? {
        banners.withLock { banners in banners.first { $0.edition == edition && $0.endsAt > now } }
    }

    /// When the first banner shown runs out: the moment to announce its expiry.
    var nextExpiry: Date? {
        banners.withLock { $0.map(\.endsAt).min() }
    }

    func reload(on database: any Database, at now: Date = Date()) async throws {
        let current = try await BreakingNews.current(on: database, at: now)
        let slugs = try await Article.query(on: database).filter(\.$id ~~ current.map(\.articleID)).filter(\.$status == .published)
            .filter(\.$publishedAt <= now).all().reduce(into: [UUID: String]()) { slugs, article in
                if let id = article.id { slugs[id] = article.slug }
            }
        let loaded = current.compactMap { banner in
            slugs[banner.articleID].map { Banner(edition: banner.edition, headline: banner.headline, articleSlug: $0, endsAt: banner.endsAt) }
        }
        banners.withLock { $0 = loaded }
    }
}
