import Crypto
import Fluent
import Foundation
import SQLKit

/// Which instances serve this database, what each does, which build's migrations it knows and
/// which secret it signs with: each writes its row at boot and every half minute after, so that
/// `masthead doctor` can tell an operator that no instance runs the background jobs, or that
/// one was started without the shared `MASTHEAD_SECRET` (its readers' sign-ins and forms
/// would fail whenever the load balancer sent them elsewhere).
struct InstanceRegistry: Sendable {
    static let schema = "instances"
    static let heartbeat: Duration = .seconds(30)
    /// An instance not heard from for this long has stopped, or cannot reach the database.
    static let liveWithin: TimeInterval = 120
    /// Rows of instances gone for a day are removed, so restarts (a new process id each) do not pile up.
    static let forgottenAfter: TimeInterval = 86_400

    struct Instance: Sendable, Equatable {
        let name: String
        /// `web`, `worker` or `all`, as it actually runs (an `all` with background jobs off is `web`).
        let role: String
        let migrations: Int
        let secretFingerprint: String
        let startedAt: Date
        let seenAt: Date
    }

    let database: any Database

    func beat(_ instance: Instance) async throws {
        let sql = database as! any SQLDatabase
        try await sql.insert(into: Self.schema)
            .columns("name", "role", "migrations", "secret_fingerprint", "started_at", "seen_at")
            .values(
                SQLBind(instance.name), SQLBind(instance.role), SQLBind(instance.migrations), SQLBind(instance.secretFingerprint),
                SQLBind(instance.startedAt), SQLBind(instance.seenAt)
            )
            .onConflict(with: "name") { conflict in
                conflict.set(excludedValueOf: "role").set(excludedValueOf: "migrations").set(excludedValueOf: "secret_fingerprint")
                    .set(excludedValueOf: "started_at").set(excludedValueOf: "seen_at")
            }
            .run()
        try await sql.delete(from: Self.schema).where("seen_at", .lessThan, SQLBind(instance.seenAt.addingTimeInterval(-Self.forgottenAfter))).run()
    }

    /// An instance stopping cleanly leaves at once, rather than count as running for two minutes.
    func forget(_ name: String) async throws {
        try await (database as! any SQLDatabase).delete(from: Self.schema).where("name", .equal, SQLBind(name)).run()
    }

    /// The instances heard from lately, most recently started first.
    func live(now: Date = Date()) async throws -> [Instance] {
        try await (database as! any SQLDatabase).select().columns("*").from(Self.schema)
            .where("seen_at", .greaterThanOrEqual, SQLBind(now.addingTimeInterval(-Self.liveWithin)))
            .orderBy("started_at", .descending)
            .all()
            .map { row in
                Instance(
                    name: try row.decode(column: "name", as: String.self), role: try row.decode(column: "role", as: String.self),
                    migrations: try row.decode(column: "migrations", as: Int.self),
                    secretFingerprint: try row.decode(column: "secret_fingerprint", as: String.self),
                    startedAt: try row.decode(column: "started_at", as: Date.self), seenAt: try row.decode(column: "seen_at", as: Date.self)
                )
            }
    }

    /// Names the secret without revealing it: the first 64 bits of an HMAC of a fixed text.
    static func fingerprint(of key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("masthead instance fingerprint".utf8), using: key)
            .prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// This process, as the registry records it.
    static func this(settings: Settings, key: SymmetricKey, startedAt: Date, now: Date = Date()) -> Instance {
        Instance(
            name: DatabaseSetup.applicationName, role: settings.runsBackgroundJobs ? settings.role.rawValue : ServerRole.web.rawValue,
            migrations: MastheadMigrations.all.count, secretFingerprint: fingerprint(of: key), startedAt: startedAt, seenAt: now
        )
    }
}
