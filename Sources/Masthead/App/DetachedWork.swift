import Foundation
import Synchronization
import Vapor

/// Work a request starts and does not wait for (a staff password reset's mail, sent after the
/// answer), kept track of so that `MastheadApp.stop` waits for it: nothing may still be using a
/// database connection when the databases close, since a SQLite connection handed back after
/// the thread pool has stopped can no longer be closed.
final class DetachedWork: Sendable {
    private let running = Mutex<[UUID: Task<Void, Never>]>([:])
    /// The most at once: past it, work is refused rather than queued behind the rest, where a
    /// flood of requests would have it wait for database connections every other request needs.
    let limit: Int

    init(limit: Int = 32) {
        self.limit = limit
    }

    /// Starts the work, or refuses it (false) when `limit` pieces are under way.
    @discardableResult
    func start(_ body: @escaping @Sendable () async -> Void) -> Bool {
        let id = UUID()
        return running.withLock { running in
            guard running.count < limit else { return false }
            running[id] = Task {
                await body()
                self.running.withLock { _ = $0.removeValue(forKey: id) }
            }
            return true
        }
    }

    /// Waits for everything started so far, and for what that starts in turn.
    func finish() async {
        while true {
            let tasks = running.withLock { running in
                defer { running = [:] }
                return Array(running.values)
            }
            guard !tasks.isEmpty else { return }
            for task in tasks { await task.value }
        }
    }
}

struct DetachedWorkKey: StorageKey {
    typealias Value = DetachedWork
}
