import Foundation
import Synchronization

/// Requests per key (or per client) per minute, counted in this instance's memory in fixed
/// one-minute windows.
final class APIRateLimiter: Sendable {
    let perMinute: Int
    private let windows = Mutex<[String: (minute: Int, count: Int)]>([:])

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Throws `rateLimited` when the caller has used up this window, without counting: asked
    /// before work that only failures are counted for.
    func check(_ caller: String, now: Date = Date()) throws {
        let seconds = Int(now.timeIntervalSince1970)
        let over = windows.withLock { windows in
            windows[caller].map { $0.minute == seconds / 60 && $0.count >= perMinute } ?? false
        }
        if over { throw APIError.rateLimited(retryAfter: 60 - seconds % 60) }
    }

    /// Counts one request; throws `rateLimited` with the seconds left in the window when over.
    func count(_ caller: String, now: Date = Date()) throws {
        let seconds = Int(now.timeIntervalSince1970)
        let minute = seconds / 60
        let allowed = windows.withLock { windows -> Bool in
            if windows.count > 10_000 { windows = windows.filter { $0.value.minute == minute } }
            let earlier = windows[caller].flatMap { $0.minute == minute ? $0.count : nil } ?? 0
            windows[caller] = (minute, earlier + 1)
            return earlier < perMinute
        }
        guard allowed else { throw APIError.rateLimited(retryAfter: 60 - seconds % 60) }
    }
}
