import NIOCore
import NIOHTTP1
import Synchronization
import Vapor

/// The front server's fast path: a page already rendered for the reader's access level,
/// answered from the page cache before routing. It answers a reader whose access level
/// `Viewers` knows without the database, and only when the meter has no say in what that
/// level reads (the meter is counted per reader, on the routed path).
final class CachedPages: FastPath {
    private let cache: PageCache
    private let viewers: Viewers
    private let settings: Settings
    /// Answers given, so tests can tell the fast path from the router.
    let answered = Atomic<Int>(0)

    init(cache: PageCache, viewers: Viewers, settings: Settings) {
        self.cache = cache
        self.viewers = viewers
        self.settings = settings
    }

    func answer(_ head: HTTPRequestHead, client: RequestClient) -> ReadyAnswer? {
        guard head.method == .GET || head.method == .HEAD,
              let viewer = viewers.knownViewer(head.headers),
              settings.meterAllowance(for: viewer) == 0,
              let page = cache.hit(uri: head.uri, access: viewer.accessLevel)
        else { return nil }
        answered.add(1, ordering: .relaxed)
        return page.answer(to: head.headers)
    }
}

extension Settings {
    /// Gated articles this viewer may open per 30 days on the meter; 0 when the meter has no say.
    func meterAllowance(for viewer: Viewer) -> Int {
        switch viewer {
        case .anonymous: anonymousMeter
        case .freeMember: memberMeter
        case .paidMember: 0
        }
    }
}
