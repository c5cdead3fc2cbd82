import Fluent
import Foundation
import Synchronization
import Vapor

/// Removes what no longer counts, once at start and then hourly: metered reads past their
/// window, sign-in links and sessions past their expiry, staff sign-in attempts that
/// neither count towards a lockout nor hold one, mail sent and push alerts settled more than 30 days
/// ago, and the addresses push subscriptions came from once the hour they count for is over. Without it these tables would
/// grow with every reader for as long as the site runs.
final class Housekeeping: LifecycleHandler, Sendable {
    static let interval: Duration = .seconds(3600)
    private let task = Mutex<Task<Void, Never>?>(nil)

    func didBootAsync(_ application: Application) async throws {
        let database = application.db, logger = application.logger
        task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    do {
                        try await Self.sweep(database, now: Date())
                    } catch {
                        logger.warning("housekeeping.failed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: Self.interval)
                }
            }
        }
    }

    static func sweep(_ database: any Database, now: Date) async throws {
        try await Metering(database: database, now: now).pruneExpired()
        // Links stay an hour past expiry: the hourly rate limits count them.
        try await LoginToken.query(on: database).filter(\.$expiresAt < now.addingTimeInterval(-3600)).delete()
        try await MemberSession.query(on: database).filter(\.$expiresAt < now).delete()
        try await StaffSession.query(on: database).filter(\.$expiresAt < now).delete()
        try await OutboxMessage.query(on: database).filter(\.$sentAt < now.addingTimeInterval(-30 * 86_400)).delete()
        try await NewsletterSubscriptions(database: database, now: now).sweep()
        try await PushDelivery.query(on: database).filter(\.$status != .queued).filter(\.$nextAttemptAt < now.addingTimeInterval(-30 * 86_400)).delete()
        // The address a subscription came from counts only for the hourly limit on new ones.
        try await PushSubscription.query(on: database).filter(\.$createdAt < now.addingTimeInterval(-3600)).filter(\.$clientAddress != "")
            .set(\.$clientAddress, to: "").update()
        try await StaffSignInAttempts.query(on: database)
            .filter(\.$lastAttemptAt < now.addingTimeInterval(-StaffSignIn.lockout))
            .group(.or) { $0.filter(\.$lockedUntil == nil).filter(\.$lockedUntil < now) }
            .delete()
    }

    /// Cancels the sweep and waits for the statement under way: nothing may use the database
    /// once it closes.
    func shutdownAsync(_ application: Application) async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
