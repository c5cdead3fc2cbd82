import Fluent
import Foundation
import SQLKit

/// How many comments readers see on each article, as the cards in listings show it.
///
/// The cards live in cached pages. Clearing every page whenever a member writes would make a
/// busy discussion empty the cache as fast as members type, so a change of what readers see
/// only marks the counts changed; at most once an interval one instance (whichever claims the
/// turn first) raises the content generation for all, and the cards catch up then.
enum CommentCounts {
    static let changedKey = "comments_changed"
    static let shownKey = "comments_shown"
    static let shownAtKey = "comments_shown_at"

    /// Visible comments per article as its discussion shows them (`CommentThread`): comments,
    /// and replies under a comment still shown (visible, or deleted with its replies kept).
    static func visible(on articleIDs: [UUID], in database: any Database) async throws -> [UUID: Int] {
        guard !articleIDs.isEmpty else { return [:] }
        let visible = Comment.Status.visible.rawValue, deleted = Comment.Status.deleted.rawValue
        let rows = try await (database as! any SQLDatabase).raw("""
            SELECT c.article_id AS article_id, COUNT(*) AS shown
            FROM \(ident: Comment.schema) c LEFT JOIN \(ident: Comment.schema) p ON p.id = c.parent_id
            WHERE c.status = \(bind: visible) AND c.article_id IN (\(binds: Array(Set(articleIDs))))
              AND (c.parent_id IS NULL OR p.status IN (\(bind: visible), \(bind: deleted)))
            GROUP BY c.article_id
            """).all()
        var counts: [UUID: Int] = [:]
        for row in rows {
            counts[try row.decode(column: "article_id", as: UUID.self)] = try row.decode(column: "shown", as: Int.self)
        }
        return counts
    }

    /// To be called in the transaction that changes which comments readers see.
    static func noteChange(on database: any Database) async throws {
        try await SiteCounters.increment(changedKey, on: database)
    }

    /// Raises the content generation when the counts changed and the last raise is at least
    /// `interval` old. Reads only the counters every instance polls anyway; writes only when
    /// there is something to show, and then only the instance whose claim of the turn lands.
    @discardableResult
    static func showIfChanged(counters: [String: Int64], interval: Duration, now: Date, on database: any Database) async throws -> Bool {
        let changed = counters[changedKey] ?? 0
        guard changed != counters[shownKey] ?? 0 else { return false }
        let seconds = Int64(now.timeIntervalSince1970)
        let wait = max(1, interval.components.seconds)
        guard seconds - (counters[shownAtKey] ?? 0) >= wait else { return false }
        return try await database.writeTransaction { db in
            let sql = db as! any SQLDatabase
            let claimed = try await sql.update("site_state")
                .set("value", to: seconds)
                .where("key", .equal, shownAtKey)
                .where("value", .lessThanOrEqual, seconds - wait)
                .returning("value")
                .all()
            guard !claimed.isEmpty else { return false }
            try await sql.update("site_state").set("value", to: changed).where("key", .equal, shownKey).run()
            try await ContentGeneration.bump(on: db, purging: .nothing)
            return true
        }
    }
}
