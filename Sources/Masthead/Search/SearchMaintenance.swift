import Foundation
import Vapor

/// What the command line may do to the search index.
public enum SearchMaintenance {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Files every published article again through the same job record the admin starts and
    /// follows: a rebuild already queued is run here; one another instance is running is left
    /// to it (`Failure`). `progress` hears `(done, total)` after each batch, and `tidying` when
    /// the last is filed and the index is being tidied, which takes a while.
    @discardableResult
    public static func reindex(
        _ app: Application, progress: @escaping @Sendable (Int, Int) -> Void, tidying: @escaping @Sendable () -> Void = {}
    ) async throws -> Int {
        let rebuilds = SearchRebuilds(database: app.db)
        _ = try await rebuilds.request(by: SearchRebuilds.commandLine)
        guard let rebuild = try await rebuilds.claim() else {
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
}
