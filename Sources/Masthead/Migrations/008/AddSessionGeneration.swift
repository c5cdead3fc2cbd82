import Fluent
import SQLKit

/// A counter bumped whenever member sessions end early (sign-out, sign-out everywhere, a
/// deleted account), so every instance drops its in-memory copy of sessions.
struct AddSessionGeneration: AsyncMigration {
    var name: String { "008_AddSessionGeneration" }

    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).insert(into: "site_state")
            .columns("key", "value")
            .values(SQLBind("session_generation"), SQLBind(Int64(1)))
            .run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).delete(from: "site_state").where("key", .equal, "session_generation").run()
    }
}
