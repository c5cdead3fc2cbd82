import Foundation
import Synchronization
import Vapor

/// Work a request starts and does not wait for (a staff password reset's mail, sent after the
/// answer), kept track of so that `MastheadApp.stop` waits for it: nothing may still be using a
/// database connection when the databases close, since a SQLite connection handed back after
/// the thread pool has stopped can no longer be closed.
final class DetachedWork: Sendable {
    private let running = Mutex<[UUID: Task<Void, Never>]>([:])

    func start(_ body: @escaping @Sendable () async -> Void) {
        let id = UUID()
        running.withLock { running in
            running[id] = Task {
                await body()
                self.running.withLock { _ = $0.removeValue(forKey: id) }
            }
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
