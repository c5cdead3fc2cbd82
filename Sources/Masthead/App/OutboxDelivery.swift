import Foundation
import Synchronization
import Vapor

/// Sends the outbox's mail in the background, every few seconds (as often as the content
/// generation is polled), on every instance: claims keep them from sending a message twice.
final class OutboxDelivery: LifecycleHandler, Sendable {
    private let transport: any MailTransport
    private let interval: Duration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(transport: any MailTransport, interval: Duration) {
        self.transport = transport
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let sender = OutboxSender(database: application.db, transport: transport, logger: application.logger)
        let interval = interval, logger = application.logger
        task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    do {
                        try await sender.sendDue()
                    } catch {
                        logger.warning("outbox.failed", metadata: ["error": "\(error)"])
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
