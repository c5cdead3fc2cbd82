import Foundation
import Synchronization
import Vapor

/// Background work done every so often from boot to shutdown (sending the outbox, delivering
/// newsletters), on every instance that runs background jobs: the work's own claims keep
/// instances from doing the same piece twice. A failed pass is logged and counted, and the next
/// one runs. Each pass returns how many items it settled, counted in the metrics.
///
/// At shutdown the job is cancelled and awaited: the passes check for cancellation between
/// items, so the item under way (a message mid-conversation with the SMTP server) is finished
/// and recorded, and nothing is left half-sent.
final class PeriodicJob: LifecycleHandler, Sendable {
    private let name: String
    private let interval: Duration
    private let pass: @Sendable (Application) async throws -> Int
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(name: String, interval: Duration, pass: @escaping @Sendable (Application) async throws -> Int) {
        self.name = name
        self.interval = interval
        self.pass = pass
    }

    func didBootAsync(_ application: Application) async throws {
        let name = name, interval = interval, pass = pass, logger = application.logger
        let counters = application.serverMetrics.backgroundJob(name)
        task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    do {
                        counters.items.increment(by: Int64(try await pass(application)))
                    } catch {
                        counters.failures.increment()
                        logger.warning("\(name).failed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: interval)
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        await stop()
    }

    /// Cancels the job and waits for the pass under way to finish its item; once stopped, again does nothing.
    func stop() async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}

struct PeriodicJobsKey: StorageKey {
    typealias Value = [PeriodicJob]
}

extension Application {
    /// Runs the job from boot to shutdown, and lists it for `MastheadApp.stop`, which stops the
    /// jobs while the requests under way drain rather than after.
    func usePeriodically(_ job: PeriodicJob) {
        lifecycle.use(job)
        storage[PeriodicJobsKey.self] = (storage[PeriodicJobsKey.self] ?? []) + [job]
    }

    var periodicJobs: [PeriodicJob] { storage[PeriodicJobsKey.self] ?? [] }
}

/// Shuts an HTTP client of Masthead's own down with the application.
struct ClosingHTTPClient: LifecycleHandler {
    let client: HTTPClient

    func shutdownAsync(_ application: Application) async {
        try? await client.shutdown()
    }
}
