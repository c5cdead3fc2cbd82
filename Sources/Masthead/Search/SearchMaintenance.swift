import Fluent
import Foundation
import Vapor

/// What the command line may do to the search index.
public enum SearchMaintenance {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Files every published article again through the same job record the admin starts and
    /// follows, claimed as it is opened so that a running server's background job cannot take
    /// it first: a rebuild already queued is run here; one another instance is running is left
    /// to it (`Failure`), or, when `following`, followed to its end (an import queues its
    /// rebuild as it commits, which a running server may take up before the command line does).
    /// `progress` hears `(done, total)` after each batch, and `tidying` when the last is filed
    /// and the index is being tidied, which takes a while.
    @discardableResult
    public static func reindex(
        _ app: Application, following: Bool = false,
        progress: @escaping @Sendable (Int, Int) -> Void, tidying: @escaping @Sendable () -> Void = {}
    ) async throws -> Int {
        let asked = Date()
        // As a server's job does: the rebuild on the background pool, its claim renewed on another.
        let rebuilds = SearchRebuilds(database: app.backgroundDatabase, renewals: app.db)
        var claimed = try await rebuilds.startClaimed(by: SearchRebuilds.commandLine)
        if claimed == nil { claimed = try await rebuilds.claim() }
        guard let rebuild = claimed else {
            if following, let running = try await rebuilds.open() {
                let filed = try await follow(running, rebuilds: rebuilds, progress: progress, tidying: tidying)
                // One that began before this was asked for may have passed the new articles by.
                guard let started = running.startedAt, started >= asked else {
                    return try await reindex(app, following: true, progress: progress, tidying: tidying)
                }
                return filed
            }
            let running = try await rebuilds.open()
            throw Failure(description: "another instance is rebuilding the search index (\(running?.done ?? 0) of \(running?.total ?? 0) articles filed); the admin's Search index page follows it")
        }
        let outcome = try await rebuilds.run(rebuild, progress: { progress($0.done, $0.total) }, tidying: tidying)
        guard case .finished(let articles) = outcome else {
            let ended = try await SearchRebuild.find(rebuild.id, on: app.db)
            throw Failure(description: ended?.status == .cancelled
                ? "the rebuild was cancelled from the admin before it finished"
                : "another instance took the rebuild over and goes on with it; the admin's Search index page follows it")
        }
        return articles
    }

    /// Waits for a rebuild another instance runs, saying how far it has got; takes it over if
    /// that instance stops renewing its claim.
    private static func follow(
        _ rebuild: SearchRebuild, rebuilds: SearchRebuilds, progress: @escaping @Sendable (Int, Int) -> Void, tidying: @escaping @Sendable () -> Void
    ) async throws -> Int {
        var current = rebuild
        while current.isOpen {
            progress(current.done, current.total)
            if current.status == .queued || (current.claimedUntil ?? .distantFuture) < Date(), let mine = try await rebuilds.claim() {
                if case .finished(let articles) = try await rebuilds.run(mine, progress: { progress($0.done, $0.total) }, tidying: tidying) { return articles }
            } else {
                try await Task.sleep(for: .milliseconds(250))
            }
            guard let latest = try await SearchRebuild.find(current.id, on: rebuilds.database) else { break }
            current = latest
        }
        switch current.status {
        case .finished:
            progress(current.done, current.total)
            return current.done
        case .cancelled:
            throw Failure(description: "the rebuild was cancelled from the admin before it finished")
        case .queued, .running, .failed:
            throw Failure(description: "the rebuild another instance ran failed: \(current.failure ?? "see its logs")")
        }
    }
}
