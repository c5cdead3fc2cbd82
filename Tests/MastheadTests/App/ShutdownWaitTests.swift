import Foundation
import Synchronization
import Testing
@testable import Masthead

/// Nothing started by a request or beside a job may run on past the shutdown that closes the
/// database: a SQLite connection handed back after that can no longer be closed.
@Suite struct ShutdownWaitTests {
    @Test func finishingDetachedWorkWaitsForWorkStartedBeforeAndDuringIt() async {
        let work = DetachedWork()
        let done = Counter()
        work.start {
            try? await Task.sleep(for: .milliseconds(200))
            work.start {
                try? await Task.sleep(for: .milliseconds(100))
                done.add()
            }
            done.add()
        }
        await work.finish()
        #expect(done.value == 2)
    }

    @Test func aHeartbeatHasEndedWhenTheWorkBesideItReturnsOrThrows() async throws {
        for fails in [false, true] {
            let beats = Counter()
            let heartbeat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                // A last write that takes a while and does not stop for cancellation.
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { finished.resume() }
                }
                beats.add()
            }
            do {
                try await alongside(heartbeat) {
                    try await Task.sleep(for: .milliseconds(30))
                    if fails { throw CancellationError() }
                }
            } catch is CancellationError {
                #expect(fails)
            }
            #expect(beats.value == 1)
        }
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
