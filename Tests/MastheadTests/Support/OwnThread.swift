import Foundation

/// Runs blocking work (waiting for a process, reading its pipe) on a thread of its own. The
/// tests' tasks share a thread pool as wide as the machine has cores with the servers under
/// test; a test that blocked one of those threads for seconds stalled every server in the run,
/// and unrelated tests timed out waiting for answers.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

extension Process {
    /// Waits for the process to end without holding one of the pool's threads.
    func exited() async {
        nonisolated(unsafe) let process = self
        _ = try? await onOwnThread { process.waitUntilExit() }
    }
}
