import Foundation
import Synchronization
import Testing
@testable import Masthead

@Suite("The page cache")
struct PageCacheTests {
    private func render(_ cache: PageCache, _ name: String, during: @escaping @Sendable () -> Void = {}) async throws -> PageCache.Page {
        try await cache.page(for: .init(page: name, access: .anonymous)) {
            during()
            return ("<p>\(name)</p>", nil)
        }
    }

    @Test("a page rendered before a publish is not served by URI after it")
    func pageKeepsItsGeneration() async throws {
        let cache = PageCache()
        cache.adopt(generation: 1)
        let page = try await render(cache, "article") { cache.adopt(generation: 2) }
        cache.remember(uri: "/articles/a", access: .anonymous, page: page, cacheControl: "public, max-age=60", vary: "Accept-Encoding")
        #expect(cache.hit(uri: "/articles/a", access: .anonymous) == nil)
        #expect(cache.hit(.init(page: "article", access: .anonymous)) == nil)
    }

    @Test("a flood of distinct URLs does not push out a page that is being read")
    func floodDoesNotEvictReadPages() async throws {
        let cache = PageCache(capacity: 100)
        let hot = try await render(cache, "home")
        cache.remember(uri: "/", access: .anonymous, page: hot, cacheControl: "public, max-age=60", vary: "Accept-Encoding")
        for number in 0..<10_000 {
            let page = try await render(cache, "listing-\(number)")
            cache.remember(uri: "/news?page=\(number)", access: .anonymous, page: page, cacheControl: "public, max-age=60", vary: "Accept-Encoding")
            if number % 20 == 0 { #expect(cache.hit(uri: "/", access: .anonymous) != nil) }
        }
        #expect(cache.hit(uri: "/", access: .anonymous) != nil)
        #expect(cache.hit(uri: "/news?page=5", access: .anonymous) == nil)
    }

    @Test("readers asking for a page while it is rendered share that one render")
    func oneRenderPerPage() async throws {
        let cache = PageCache()
        let renders = RenderCount()
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let page = try await cache.page(for: .init(page: "home", access: .anonymous)) {
                        renders.count.withLock { $0 += 1 }
                        try await Task.sleep(for: .milliseconds(200))
                        return ("<p>home</p>", nil)
                    }
                    return String(buffer: page.body.identity)
                }
            }
            for try await body in group { #expect(body == "<p>home</p>") }
        }
        #expect(renders.count.withLock { $0 } == 1)
    }

    @Test("large pages are forgotten once they pass the cache's byte budget")
    func byteBudget() async throws {
        let cache = PageCache(capacity: 1_000, byteBudget: 200_000)
        let large = String(repeating: "<p>Ž</p>", count: 2_000)
        for number in 0..<100 {
            _ = try await cache.page(for: .init(page: "large-\(number)", access: .anonymous)) { (large + String(number), nil) }
        }
        #expect(cache.hit(.init(page: "large-99", access: .anonymous)) != nil)
        #expect(cache.hit(.init(page: "large-0", access: .anonymous)) == nil)
    }

    @Test("only the parameters a route reads tell pages apart")
    func routeKey() {
        #expect(PageCache.routeKey("/articles/a?utm_source=x&fbclid=y") == "/articles/a")
        #expect(PageCache.routeKey("/news?gclid=1&page=2") == "/news?page=2")
        #expect(PageCache.routeKey("/news") == "/news")
    }

    @Test("a URI the router might read otherwise than its key is left to the router", arguments: [
        "/news?pag%65=9999", "/news?page=2&%70age=7", "/news?x#&page=2", "/news?page=2&page=3", "/news?page=02",
        "/news?page=+2", "/articles/%66oo", "//evil/news", "/news?page=" + String(repeating: "1", count: 600),
    ])
    func ambiguousURIsAreNotKeyed(uri: String) {
        #expect(PageCache.routeKey(uri) == nil)
    }

    @Test("pages are cached per access level")
    func perAccessLevel() async throws {
        let cache = PageCache()
        let page = try await render(cache, "article")
        cache.remember(uri: "/articles/a", access: .paid, page: page, cacheControl: "public, max-age=60", vary: "Accept-Encoding")
        #expect(cache.hit(uri: "/articles/a", access: .paid) != nil)
        #expect(cache.hit(uri: "/articles/a", access: .anonymous) == nil)
    }
}

private final class RenderCount: Sendable {
    let count = Mutex(0)
}
