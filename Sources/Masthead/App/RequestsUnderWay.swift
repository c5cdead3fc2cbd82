import Logging
import Synchronization

/// How many requests the application is still answering, so that shutdown can wait for them:
/// a handler whose client has gone runs on, and may be using the database.
final class RequestsUnderWay: Sendable {
    private let count = Mutex(0)

    func begin() { count.withLock { $0 += 1 } }

    func end() { count.withLock { $0 -= 1 } }

    /// Returns once no request is under way; says so in the log once if that is past `deadline`.
    func waitUntilNone(warningAfter deadline: ContinuousClock.Instant, logger: Logger) async {
        var warned = false
        while true {
            let left = count.withLock { $0 }
            guard left > 0 else { return }
            if !warned, ContinuousClock.now >= deadline {
                logger.warning("server.handlers_still_running", metadata: ["requests": "\(left)"])
                warned = true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
