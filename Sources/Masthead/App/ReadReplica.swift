import Fluent
import Foundation
import Logging
import Synchronization
import Vapor

/// The public pages' reads from a PostgreSQL streaming replica (`MASTHEAD_DATABASE_READ_URL`),
/// taken only while the replica has caught up with the content this instance serves. Every
/// tenth of a second the content generation is read on the replica; a page is read there only
/// when that generation is at least the one the page cache is at, so a page rendered after a
/// publish or an unpublish never comes from a replica that has not replayed it (it is read from
/// the primary meanwhile), and a replica that stops answering is left until it answers again.
/// Writes, and reads that decide access (sessions, the meter), stay on the primary.
final class ReadReplica: LifecycleHandler, Sendable {
    static let id = DatabaseID(string: "replica")
    static let interval: Duration = .milliseconds(100)
    /// A replica slower than this to say how far it has replayed is taken for gone.
    static let patience: Duration = .seconds(1)

    /// The content generation the replica showed at its last answer; -1 while it gives none.
    private let replayed = Atomic<Int64>(-1)
    /// When it last answered, in nanoseconds of uptime: a poll that hangs leaves this behind.
    private let answeredAt = Atomic<UInt64>(0)
    private let served: @Sendable () -> Int64
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
        return silence < UInt64(Self.patience.components.seconds) * 1_000_000_000 && replayed.load(ordering: .acquiring) >= served()
    }

    func didBootAsync(_ application: Application) async throws {
        let replica = application.db(Self.id), logger = application.logger
        task.withLock { $0 = Task { await self.watch(replica, logger: logger) } }
    }

    private func watch(_ replica: any Database, logger: Logger) async {
        var reachable = true
        while !Task.isCancelled {
            let generation = try? await ContentGeneration.current(on: replica)
            replayed.store(generation ?? -1, ordering: .releasing)
            if generation != nil { answeredAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing) }
            if (generation != nil) != reachable {
                reachable = generation != nil
                if reachable { logger.notice("replica.reachable") } else { logger.warning("replica.unreachable", metadata: ["note": "public pages read from the primary"]) }
            }
            try? await Task.sleep(for: Self.interval)
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
