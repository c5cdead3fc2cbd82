import Foundation
import Vapor

/// What the command line may do to the search index.
public enum SearchMaintenance {
    /// Files every published article again; `progress` hears `(done, total)` after each batch.
    @discardableResult
    public static func reindex(_ app: Application, progress: @escaping @Sendable (Int, Int) -> Void) async throws -> Int {
        try await SearchIndexing(database: app.db).rebuild(progress: progress)
    }
}
