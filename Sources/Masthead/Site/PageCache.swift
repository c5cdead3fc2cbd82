import Foundation
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
    }

    private struct Entry: Sendable {
        let generation: Int64
        let page: Page
    }

    private let entries = Mutex<[Key: Entry]>([:])
    /// Anonymous pages by the exact request URI, for the front server's lookup before routing.
    private let byURI = Mutex<[String: Entry]>([:])
    private let generation = Atomic<Int64>(0)
    private let capacity: Int

    public init(capacity: Int = 5_000) {
        self.capacity = capacity
    }

    public var currentGeneration: Int64 { generation.load(ordering: .acquiring) }

    /// Adopts a generation read from the database; a change drops every entry.
    public func adopt(generation newValue: Int64) {
        let old = generation.exchange(newValue, ordering: .acquiringAndReleasing)
        if old != newValue {
            entries.withLock { $0.removeAll(keepingCapacity: true) }
            byURI.withLock { $0.removeAll(keepingCapacity: true) }
        }
    }

    /// The cached page, when there is a current one: answered without suspending, so a hit
    /// costs a lock and a dictionary lookup on the event loop.
    public func hit(_ key: Key) -> Page? {
        let generation = currentGeneration
        guard let entry = entries.withLock({ $0[key] }), entry.generation == generation else { return nil }
        return entry.page
    }

    /// The anonymous page last served for exactly this URI, if still current.
    func hit(uri: String) -> Page? {
        let generation = currentGeneration
        guard let entry = byURI.withLock({ $0[uri] }), entry.generation == generation else { return nil }
        return entry.page
    }

    /// Records that this URI, asked anonymously, is answered with this page. Only the site's
    /// page handlers call it, for pages every anonymous reader gets alike.
    func remember(uri: String, page: Page) {
        let entry = Entry(generation: currentGeneration, page: page)
        byURI.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[uri] = entry
        }
    }

    public func page(for key: Key, render: () async throws -> (html: String, lastModified: Date?)) async throws -> Page {
        let generationAtStart = currentGeneration
        if let entry = entries.withLock({ $0[key] }), entry.generation == generationAtStart {
            return entry.page
        }
        let rendered = try await render()
        let page = Page(body: PreparedBody(html: rendered.html), lastModified: rendered.lastModified.map(LastModified.init))
        entries.withLock { entries in
            // A full cache is emptied rather than tracked per entry: pages are cheap to rebuild,
            // and the bound only guards memory against crawls over endless page numbers.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(generation: generationAtStart, page: page)
        }
        return page
    }
}
