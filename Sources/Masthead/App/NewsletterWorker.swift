import Foundation
import Synchronization
import Vapor

/// Delivers newsletters in the background (in `masthead serve` and `masthead worker`): a pass
/// every few seconds over what is due. Several instances may run it on one database; their
/// claims keep them off each other's deliveries.
final class NewsletterWorker: LifecycleHandler, Sendable {
    private let deliverer: NewsletterDeliverer
    private let interval: Duration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(deliverer: NewsletterDeliverer, interval: Duration) {
        self.deliverer = deliverer
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let deliverer = deliverer, interval = interval, logger = application.logger
        task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    do {
                        try await deliverer.deliverDue()
                    } catch {
                        logger.warning("newsletter.delivery_failed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: interval)
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
