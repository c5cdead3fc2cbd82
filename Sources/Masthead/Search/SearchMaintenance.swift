import Foundation
import Vapor

/// What the command line may do to the search index.
public enum SearchMaintenance {
    /// Files every published article again; `progress` hears `(done, total)` after each batch,
    /// and `tidying` when the last is filed and the index is being tidied, which takes a while.
    @discardableResult
    public static func reindex(
        _ app: Application, progress: @escaping @Sendable (Int, Int) -> Void, tidying: @escaping @Sendable () -> Void = {}
    ) async throws -> Int {
        try await SearchIndexing(database: app.db).rebuild(progress: progress, tidying: tidying)
    }
}
