import Fluent
import Synchronization
import Vapor

/// Keeps this instance's page cache in step with the content generation in the database, so
/// that a publish on any instance (or by the CLI) reaches every instance within one interval.
final class GenerationWatcher: LifecycleHandler, Sendable {
    private let cache: PageCache
    private let interval: Duration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(cache: PageCache, interval: Duration) {
        self.cache = cache
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        cache.adopt(generation: try await ContentGeneration.current(on: application.db))
        let cache = cache, interval = interval, database = application.db, logger = application.logger
        task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    do {
                        cache.adopt(generation: try await ContentGeneration.current(on: database))
                    } catch {
                        logger.warning("cache.generation.poll_failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task.withLock { $0?.cancel() }
    }
}
