import Foundation
import Synchronization

/// Requests per caller (a key, a member, a client address) per minute, in fixed one-minute
/// windows. Counted in this instance's memory, so that a request never waits for the database;
/// with several instances on one database, `SharedRateWindows` adds each instance's counts up
/// every second and hands every limiter the totals, so a caller spread over the instances gets
/// the same allowance as one that reaches a single instance. The bound is loose for a second:
/// an instance learns a caller's total with its first share after that caller's first request
/// there, so a burst inside that second may take up to one allowance on each instance.
final class APIRateLimiter: Sendable {
    let perMinute: Int
    /// Names this limiter's counts among the others' in the shared table.
    let scope: String
    private let windows = Mutex<[String: Window]>([:])

    private struct Window {
        var minute: Int
        /// Counted here since the last share.
        var unshared = 0
        /// Every instance's count as of the last share, this one's included.
        var shared = 0

        var total: Int { shared + unshared }
    }

    /// A caller's requests counted here and not yet shared, in one minute's window.
    struct Unshared: Sendable, Equatable {
        let caller: String
        let minute: Int
        let count: Int
    }

    init(perMinute: Int, scope: String) {
        self.perMinute = perMinute
        self.scope = scope
    }

    /// Throws `rateLimited` when the caller has used up this window, without counting: asked
    /// before work that only failures are counted for.
    func check(_ caller: String, now: Date = Date()) throws {
        let seconds = Int(now.timeIntervalSince1970)
        let over = windows.withLock { windows in
            windows[caller].map { $0.minute == seconds / 60 && $0.total >= perMinute } ?? false
        }
        if over { throw APIError.rateLimited(retryAfter: 60 - seconds % 60) }
    }

    /// Counts one request; throws `rateLimited` with the seconds left in the window when over.
    func count(_ caller: String, now: Date = Date()) throws {
        let seconds = Int(now.timeIntervalSince1970)
        let minute = seconds / 60
        let allowed = windows.withLock { windows -> Bool in
            if windows.count > 10_000 { windows = windows.filter { $0.value.minute == minute } }
            var window = windows[caller].flatMap { $0.minute == minute ? $0 : nil } ?? Window(minute: minute)
            let earlier = window.total
            window.unshared += 1
            windows[caller] = window
            return earlier < perMinute
        }
        guard allowed else { throw APIError.rateLimited(retryAfter: 60 - seconds % 60) }
    }

    /// Hands over what was counted since the last share; until the totals come back, it counts
    /// as shared, so no caller gains while the database is asked.
    func takeUnshared() -> [Unshared] {
        windows.withLock { windows in
            var taken: [Unshared] = []
            for (caller, window) in windows where window.unshared > 0 {
                taken.append(Unshared(caller: caller, minute: window.minute, count: window.unshared))
                windows[caller]?.shared += window.unshared
                windows[caller]?.unshared = 0
            }
            return taken
        }
    }

    /// Takes back counts whose share failed, so that the next share carries them.
    func giveBack(_ counts: [Unshared]) {
        windows.withLock { windows in
            for count in counts {
                guard var window = windows[count.caller], window.minute == count.minute else { continue }
                window.shared = max(0, window.shared - count.count)
                window.unshared += count.count
                windows[count.caller] = window
            }
        }
    }

    /// Every instance's count for a caller's window, as the database added them up.
    func learn(caller: String, minute: Int, total: Int) {
        windows.withLock { windows in
            guard var window = windows[caller], window.minute == minute else { return }
            window.shared = max(window.shared, total)
            windows[caller] = window
        }
    }
}

/// The site's rate limiters, one per thing limited, each with its scope in the shared table.
struct RateLimits: Sendable {
    let search: APIRateLimiter
    let contentAPI: APIRateLimiter
    let contentAPIFailures: APIRateLimiter
    let adminAPI: APIRateLimiter
    let adminAPIFailures: APIRateLimiter
    /// Staff password reset requests per client: each sends mail and writes a link, after the
    /// answer, so nothing else slows a client that sends them by the thousand.
    let staffResets: APIRateLimiter

    static let staffResetsPerMinute = 10

    init(perMinute: Int, failedKeysPerMinute: Int) {
        search = APIRateLimiter(perMinute: perMinute, scope: "search")
        contentAPI = APIRateLimiter(perMinute: perMinute, scope: "content-api")
        contentAPIFailures = APIRateLimiter(perMinute: failedKeysPerMinute, scope: "content-api-failures")
        adminAPI = APIRateLimiter(perMinute: perMinute, scope: "admin-api")
        adminAPIFailures = APIRateLimiter(perMinute: failedKeysPerMinute, scope: "admin-api-failures")
        staffResets = APIRateLimiter(perMinute: Self.staffResetsPerMinute, scope: "staff-resets")
    }

    var all: [APIRateLimiter] { [search, contentAPI, contentAPIFailures, adminAPI, adminAPIFailures, staffResets] }
}
