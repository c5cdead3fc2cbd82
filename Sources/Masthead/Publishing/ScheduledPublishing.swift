import Fluent
import Foundation
import Vapor

/// Publishes scheduled articles whose time has come.
///
/// The schedule lives only in the database (status `scheduled`, `published_at` in the future), so
/// a restart loses nothing: the first pass after boot publishes whatever fell due while the
/// server was down. Several instances may run it at once; the update is idempotent.
struct ScheduledPublishing: Sendable {
    let database: any Database

    /// Publishes what is due at `now` and returns how many articles went out.
    @discardableResult
    func publishDue(now: Date) async throws -> Int {
        // Most passes find nothing due: they read only, and leave SQLite's write lock alone.
        guard try await dueArticles(now: now, on: database).first() != nil else { return 0 }
        return try await database.writeTransaction { db in
            let due = try await dueArticles(now: now, on: db).all()
            guard !due.isEmpty else { return 0 }
            try await Article.query(on: db)
                .filter(\.$id ~~ due.compactMap(\.id)).filter(\.$status == .scheduled)
                .set(\.$status, to: .published)
                .update()
            for article in due {
                try await AuditLog(database: db, now: now).record(AuditLog.systemActor, "published on schedule", article.title)
            }
            try await SearchIndexing(database: db).refresh(due.compactMap(\.id))
            try await ContentGeneration.bump(on: db, purging: try await .articles(due.compactMap(\.id), on: db))
            return due.count
        }
    }

    private func dueArticles(now: Date, on db: any Database) -> QueryBuilder<Article> {
        Article.query(on: db).filter(\.$status == .scheduled).filter(\.$publishedAt <= now)
    }
}
