import Fluent
import SQLKit

/// The counters by which comment counts reach the cached cards: one moved by every change of
/// what readers see, the one last shown, and when it was shown (see `CommentCounts`).
struct AddCommentCounters: AsyncMigration {
    var name: String { "030_AddCommentCounters" }

    private static let keys = [CommentCounts.changedKey, CommentCounts.shownKey, CommentCounts.shownAtKey]

    func prepare(on database: any Database) async throws {
        for key in Self.keys {
            try await (database as! any SQLDatabase).insert(into: "site_state")
                .columns("key", "value")
                .values(SQLBind(key), SQLBind(Int64(0)))
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).delete(from: "site_state").where("key", .in, Self.keys).run()
    }
}
