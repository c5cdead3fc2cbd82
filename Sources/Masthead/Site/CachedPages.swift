import NIOCore
import NIOHTTP1
import Synchronization
import Vapor

/// The front server's fast path: a page already rendered for the reader's access level,
/// answered from the page cache before routing. It answers only readers whose access level
/// needs no database to know and whose page the meter has no say in.
final class CachedPages: FastPath {
    private let cache: PageCache
    private let settings: Settings
    /// Answers given, so tests can tell the fast path from the router.
    let answered = Atomic<Int>(0)

    init(cache: PageCache, settings: Settings) {
        self.cache = cache
        self.settings = settings
    }

    func answer(_ head: HTTPRequestHead, client: RequestClient) -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer?)? {
        guard head.method == .GET || head.method == .HEAD,
              !head.headers[.cookie].contains(where: { $0.contains(MemberSessions.cookieName + "=") }),
              settings.anonymousMeter == 0,
              let page = cache.hit(uri: head.uri, access: .anonymous)
        else { return nil }
        var answer = page.body.answer(
            to: head.headers, cacheControl: SiteController.anonymousCacheControl,
            vary: SiteController.pageVary, lastModified: page.lastModified
        )
        SecurityHeadersMiddleware.apply(to: &answer.headers)
        answered.add(1, ordering: .relaxed)
        return answer
    }
}
