import Fluent
import Foundation
import Logging
import SQLKit
import Synchronization
import Vapor

/// The public pages' reads from a PostgreSQL streaming replica (`MASTHEAD_DATABASE_READ_URL`),
/// taken only while the replica has caught up with the content this instance serves. Every
/// tenth of a second the content generation is read on the replica; a page is read there only
/// when that generation is at least the one the page cache is at, so a page rendered after a
/// publish or an unpublish never comes from a replica that has not replayed it (it is read from
/// the primary meanwhile), and a replica that stops answering is left until it answers again.
/// Writes, and reads that decide access (sessions, the meter), stay on the primary. A replica
/// is used only while it is a standby holding this very site: the primary is given a random
/// identity once, which replication carries to its standbys and to nothing else, so a read URL
/// that names another database (a staging copy, a standby promoted and split off) is never read.
final class ReadReplica: LifecycleHandler, Sendable {
    static let id = DatabaseID(string: "replica")
    static let interval: Duration = .milliseconds(100)
    /// A replica slower than this to say how far it has replayed is taken for gone.
    static let patienceNanoseconds: UInt64 = 1_000_000_000
    static let identityKey = "site_identity"

    /// The content generation the replica showed at its last answer; -1 while it gives none.
    private let replayed = Atomic<Int64>(-1)
    /// When it last answered, in nanoseconds of uptime: a poll that hangs leaves this behind.
    private let answeredAt = Atomic<UInt64>(0)
    private let served: @Sendable () -> Int64
    private let identity = Atomic<Int64>(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// `served`: the content generation this instance's pages are at.
    init(served: @escaping @Sendable () -> Int64) {
        self.served = served
    }

    /// Where a public page's reads go now.
    func database(for req: Request) -> any Database {
        isCaughtUp ? req.db(Self.id) : req.db
    }

    var isCaughtUp: Bool {
        let silence = DispatchTime.now().uptimeNanoseconds &- answeredAt.load(ordering: .acquiring)
        return silence < Self.patienceNanoseconds && replayed.load(ordering: .acquiring) >= served()
    }

    func didBootAsync(_ application: Application) async throws {
        identity.store(try await Self.identity(of: application.db), ordering: .releasing)
        let replica = application.db(Self.id), logger = application.logger
        task.withLock { $0 = Task { await self.watch(replica, logger: logger) } }
    }

    /// The site's identity, given to the primary the first time a replica is configured.
    static func identity(of primary: any Database) async throws -> Int64 {
        let sql = primary as! any SQLDatabase
        try await sql.raw("""
            INSERT INTO site_state (key, value) VALUES (\(bind: identityKey), \(bind: Int64.random(in: 1...Int64.max))) ON CONFLICT (key) DO NOTHING
            """).run()
        return try await SiteCounters.values(on: primary)[identityKey] ?? 0
    }

    private func watch(_ replica: any Database, logger: Logger) async {
        var state = "reachable"
        while !Task.isCancelled {
            let (generation, problem) = await look(at: replica)
            replayed.store(generation ?? -1, ordering: .releasing)
            if generation != nil { answeredAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing) }
            let now = problem ?? "reachable"
            if now != state {
                state = now
                if problem == nil { logger.notice("replica.reachable") } else { logger.warning("replica.unused", metadata: ["reason": "\(now)", "note": "public pages read from the primary"]) }
            }
            try? await Task.sleep(for: Self.interval)
        }
    }

    /// How far the replica has replayed this site, or why it is not to be read.
    private func look(at replica: any Database) async -> (generation: Int64?, problem: String?) {
        do {
            let standby = try await (replica as! any SQLDatabase).raw("SELECT pg_is_in_recovery() AS standby").first()?.decode(column: "standby", as: Bool.self) ?? false
            guard standby else { return (nil, "not a standby") }
            let counters = try await SiteCounters.values(on: replica)
            guard counters[Self.identityKey] == identity.load(ordering: .acquiring) else { return (nil, "not a copy of this site's database, or not caught up with it yet") }
            return (counters[ContentGeneration.key] ?? 0, nil)
        } catch {
            return (nil, "unreachable")
        }
    }

    /// Not waited for: a poll stuck on a replica that stopped answering must not hold the stop up.
    func shutdown(_ application: Application) {
        task.withLock { task in
            task?.cancel()
            task = nil
        }
    }
}

struct ReadReplicaKey: StorageKey {
    typealias Value = ReadReplica
}

extension Request {
    /// The database a public page, feed or sitemap reads from: the replica while it has caught
    /// up, else the primary. Never for writes, nor for what decides who the reader is.
    var pageDB: any Database {
        application.storage[ReadReplicaKey.self]?.database(for: self) ?? db
    }
}
