import Logging
import Synchronization

/// How many requests the application is still answering, so that shutdown can wait for them:
/// a handler whose client has gone runs on, and may be using the database. Once the wait is
/// over, none is let in.
final class RequestsUnderWay: Sendable {
    private struct State {
        var count = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Counts a request in; false once shutdown has stopped waiting, when it must not start.
    func begin() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.count += 1
            return true
        }
    }

    func end() { state.withLock { $0.count -= 1 } }

    /// Returns once no request is under way, and lets none in after; says so in the log once
    /// if that is past `deadline`.
    func waitUntilNone(warningAfter deadline: ContinuousClock.Instant, logger: Logger) async {
        var warned = false
        while true {
            let left = state.withLock { state in
                if state.count == 0 { state.closed = true }
                return state.count
            }
            guard left > 0 else { return }
            if !warned, ContinuousClock.now >= deadline {
                logger.warning("server.handlers_still_running", metadata: ["requests": "\(left)"])
                warned = true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
