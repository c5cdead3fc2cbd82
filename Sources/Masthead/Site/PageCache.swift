import Foundation
import Prometheus
import Synchronization
import Vapor

/// Rendered public pages, kept in memory per instance (DESIGN.md, "Speed").
///
/// A key names a page and the access level it was rendered for, never a person, so the cache
/// stays small and one viewer can never be served another's page. Every entry remembers the
/// content generation it was rendered under; publishing bumps the generation, which makes every
/// older entry stale at once.
public final class PageCache: Sendable {
    public struct Key: Hashable, Sendable {
        public let page: String
        public let access: AccessLevel
        public init(page: String, access: AccessLevel) {
            self.page = page
            self.access = access
        }
    }

    public struct Page: Sendable {
        let body: PreparedBody
        let lastModified: LastModified?
        /// The content generation the page was rendered under: once it is not the current one,
        /// the page may describe an article since unpublished or gated, and is never served.
        let generation: Int64
    }

    /// What the front server looks a page up by: the request's URI as the route reads it, and
    /// the access level of the reader asking.
    struct FastKey: Hashable, Sendable {
        let uri: String
        let access: AccessLevel
    }

    /// A render under way, by what it renders and the generation it started under.
    private struct Flight: Hashable {
        let key: Key
        let generation: Int64
    }

    private let entries: Mutex<RecentlyUsed<Key, Page>>
    /// Pages by request URI, made ready for the front server's lookup before routing.
    private let byURI: Mutex<RecentlyUsed<FastKey, ReadyPage>>
    private let generation = Atomic<Int64>(0)
    private let flights = Mutex<[Flight: Task<Page, any Error>]>([:])
    /// Pages found, and pages that had to be rendered (or waited for while another reader's
    /// request rendered them), for the hit rate in the metrics.
    private let lookups: (hits: Counter, misses: Counter)?

    /// `capacity` and `byteBudget` bound each index; the pages least recently read go first.
    public convenience init(capacity: Int = 5_000, byteBudget: Int = 256 * 1024 * 1024) {
        self.init(capacity: capacity, byteBudget: byteBudget, lookups: nil)
    }

    init(capacity: Int = 5_000, byteBudget: Int = 256 * 1024 * 1024, lookups: (hits: Counter, misses: Counter)?) {
        entries = Mutex(RecentlyUsed(capacity: capacity, byteBudget: byteBudget))
        byURI = Mutex(RecentlyUsed(capacity: capacity, byteBudget: byteBudget))
        self.lookups = lookups
    }

    public var currentGeneration: Int64 { generation.load(ordering: .acquiring) }

    /// Adopts a generation read from the database; a change drops every entry.
    public func adopt(generation newValue: Int64) {
        let old = generation.exchange(newValue, ordering: .acquiringAndReleasing)
        if old != newValue {
            entries.withLock { $0.removeAll() }
            byURI.withLock { $0.removeAll() }
        }
    }

    /// The cached page, when there is a current one: answered without suspending, so a hit
    /// costs a lock and a dictionary lookup on the event loop.
    public func hit(_ key: Key) -> Page? {
        let generation = currentGeneration
        guard let page = entries.withLock({ $0.value(for: key) }), page.generation == generation else { return nil }
        lookups?.hits.increment()
        return page
    }

    /// The page last served for this URI to a reader of this access level, if still current.
    func hit(uri: String, access: AccessLevel) -> ReadyPage? {
        guard let route = Self.routeKey(uri) else { return nil }
        let generation = currentGeneration
        guard let page = byURI.withLock({ $0.value(for: FastKey(uri: route, access: access)) }), page.generation == generation else {
            return nil
        }
        lookups?.hits.increment()
        return page
    }

    /// Records that this URI, asked by any reader of this access level, is answered with this
    /// page and these caching rules. Only the site's page handlers call it, for pages every such
    /// reader gets alike.
    func remember(uri: String, access: AccessLevel, page: Page, cacheControl: String, vary: String, surrogateKeys: SurrogateKeys? = nil) {
        guard page.generation == currentGeneration, let route = Self.routeKey(uri) else { return }
        let ready = ReadyPage(page, cacheControl: cacheControl, vary: vary, surrogateKeys: surrogateKeys)
        byURI.withLock { $0.insert(ready, for: FastKey(uri: route, access: access), cost: ready.cost) }
    }

    /// The URI as far as the site's routes read it: the path and the `page` parameter. Links
    /// shared on social media carry `?fbclid=`, `?utm_source=` and the like, which change
    /// nothing on the page and so share its entry.
    ///
    /// Nil, so the router answers, for a URI the router might read differently than this key
    /// says: anything percent-encoded, a fragment, a bracketed key (a structured parameter),
    /// a `page` given twice or not as plain digits,
    /// a path that is not plainly a path, or a URI long enough to bloat the index.
    static func routeKey(_ uri: String) -> String? {
        let bytes = uri.utf8
        guard bytes.count <= 512, bytes.first == UInt8(ascii: "/"), !uri.hasPrefix("//") else { return nil }
        var question: String.Index?
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "%"), UInt8(ascii: "#"), UInt8(ascii: "["): return nil
            case UInt8(ascii: "?") where question == nil: question = index
            default: continue
            }
        }
        guard let question else { return uri }
        var page: Substring?
        for parameter in uri[uri.index(after: question)...].split(separator: "&") where parameter.hasPrefix("page=") {
            guard page == nil else { return nil }
            page = parameter
        }
        guard let page else { return String(uri[..<question]) }
        let digits = page.utf8.dropFirst("page=".count)
        guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 6,
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return uri[..<question] + "?" + page
    }

    /// The cached page, or one rendered for it. Readers asking for the same page while it is
    /// rendered wait for that one render rather than each starting their own: after a publish
    /// clears the cache, a crowd on one page costs one render, not one each.
    public func page(
        for key: Key, contentType: String = "text/html; charset=utf-8",
        render: @escaping @Sendable () async throws -> (html: String, lastModified: Date?)
    ) async throws -> Page {
        let generationAtStart = currentGeneration
        if let page = hit(key) { return page }
        lookups?.misses.increment()
        let flight = Flight(key: key, generation: generationAtStart)
        let task = flights.withLock { flights in
            if let running = flights[flight] { return running }
            let task = Task<Page, any Error> {
                let rendered = try await render()
                return Page(
                    body: PreparedBody(bytes: ByteBuffer(string: rendered.html), contentType: contentType),
                    lastModified: rendered.lastModified.map(LastModified.init),
                    generation: generationAtStart
                )
            }
            flights[flight] = task
            return task
        }
        defer { flights.withLock { if $0[flight] == task { $0[flight] = nil } } }
        let page = try await task.value
        entries.withLock { $0.insert(page, for: key, cost: page.body.cost) }
        return page
    }
}
