import Fluent
import SQLKit

/// The scheduler asks every two seconds, on every instance, which scheduled articles are due.
/// Without an index that question read the whole `articles` table: at 100,000 articles about
/// 110 ms of disk reads each time, slowing every request beside it. The index holds only the
/// scheduled few, so no other query is ever tempted to walk it (an index over every article's
/// status was chosen, without statistics, for lookups by id, and made them hundreds of times slower).
struct IndexScheduledArticles: AsyncMigration {
    var name: String { "021_IndexScheduledArticles" }

    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("""
            CREATE INDEX articles_scheduled_idx ON articles (published_at) WHERE status = 'scheduled'
            """).run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "articles_scheduled_idx").ifExists().run()
    }
}
