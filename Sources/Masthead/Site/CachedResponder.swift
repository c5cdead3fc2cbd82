import Foundation
import Vapor

/// Answers a public GET from the page cache, or renders it once for everyone who may share it:
/// the one way site pages, feeds and sitemaps are served.
struct CachedResponder: Sendable {
    static let pageVary = "Accept-Encoding, Cookie"

    /// Whether shared caches may keep the answer: only what every anonymous reader gets
    /// alike. A signed-in reader's page, or one the meter opened, is the reader's alone.
    static func isShared(viewer: Viewer, metered: Bool) -> Bool {
        viewer == .anonymous && !metered
    }

    /// Browsers keep a shared page for a minute; a CDN for `MASTHEAD_CDN_MAX_AGE`, and may
    /// answer with it a little longer while it fetches a new one. Never while Masthead is down
    /// (no `stale-if-error`): the copy may be of an article withdrawn since, and its purge
    /// would not be repeated once that copy should have run out.
    static func cacheControl(shared: Bool, settings: Settings) -> String {
        shared ? "public, max-age=60, s-maxage=\(settings.cdnMaxAge), stale-while-revalidate=\(staleWhileRevalidate)" : "private, no-cache"
    }

    static let staleWhileRevalidate = 30

    let cache: PageCache
    let settings: Settings

    /// A page for the requester's access level, from the cache or rendered for it. A hit is
    /// answered on the event loop without starting a task; only a miss renders. What every
    /// reader of this access level gets alike is remembered for the front server's fast path.
    func respond(
        _ req: Request, page: String, metered: Bool = false,
        render: @escaping @Sendable (Viewer) async throws -> (html: String, lastModified: Date?)
    ) -> EventLoopFuture<Response> {
        let viewer = req.viewer
        // A metered page is opened for this reader alone, and a level the meter counts for is
        // answered per reader: neither may be served to the next reader before routing.
        let alike = !metered && settings.meterAllowance(for: viewer) == 0
        let shared = Self.isShared(viewer: viewer, metered: metered)
        return respond(
            req, key: PageCache.Key(page: metered ? page + "#metered" : page, access: viewer.accessLevel),
            cacheControl: Self.cacheControl(shared: shared, settings: settings), surrogateKeys: shared ? SurrogateKeys(document: page) : nil,
            rememberURI: alike, contentType: "text/html; charset=utf-8"
        ) { try await render(viewer) }
    }

    /// A document that is the same for every reader (a feed, a sitemap): rendered once, as an
    /// anonymous reader sees the site, and kept by shared caches like an anonymous page.
    /// `rememberURI: false` keeps it off the fast path, for a document whose content changes
    /// with the clock and is keyed by it.
    func respondAlike(
        _ req: Request, document: String, contentType: String, rememberURI: Bool = true,
        render: @escaping @Sendable () async throws -> (html: String, lastModified: Date?)
    ) -> EventLoopFuture<Response> {
        respond(
            req, key: PageCache.Key(page: document, access: .anonymous),
            cacheControl: Self.cacheControl(shared: true, settings: settings), surrogateKeys: SurrogateKeys(document: document),
            rememberURI: rememberURI && settings.meterAllowance(for: req.viewer) == 0,
            contentType: contentType, render: render
        )
    }

    private func respond(
        _ req: Request, key: PageCache.Key, cacheControl: String, surrogateKeys: SurrogateKeys?, rememberURI: Bool, contentType: String,
        render: @escaping @Sendable () async throws -> (html: String, lastModified: Date?)
    ) -> EventLoopFuture<Response> {
        let cache = cache
        let access = req.viewer.accessLevel
        let respond = { @Sendable (entry: PageCache.Page) in
            if rememberURI {
                cache.remember(uri: req.url.string, access: access, page: entry, cacheControl: cacheControl, vary: Self.pageVary, surrogateKeys: surrogateKeys)
            }
            return entry.body.response(to: req, cacheControl: cacheControl, vary: Self.pageVary, lastModified: entry.lastModified, surrogateKeys: surrogateKeys)
        }
        if let entry = cache.hit(key) {
            return req.eventLoop.makeSucceededFuture(respond(entry))
        }
        return req.eventLoop.makeFutureWithTask {
            respond(try await cache.page(for: key, contentType: contentType, render: render))
        }
    }
}
