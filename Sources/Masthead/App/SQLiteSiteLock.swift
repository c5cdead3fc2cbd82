import Foundation
import Vapor

/// Every Masthead process on a SQLite database holds a shared lock on a file beside it, for as
/// long as it runs; `masthead restore` takes it exclusively before it replaces the database.
/// A process still writing to the old file would otherwise bring its log back onto the new one,
/// or lose its writes to a file no longer there. The kernel drops the lock when a process dies.
final class SQLiteSiteLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    static func path(for database: String) -> String { database + ".lock" }

    /// For a process that uses the database; fails while a restore replaces it.
    static func shared(for database: String) throws -> SQLiteSiteLock {
        guard let lock = try take(for: database, LOCK_SH) else {
            throw StartupError("the database \(database) is being restored: wait for `masthead restore` to finish")
        }
        return lock
    }

    /// For a restore; nil while any other Masthead process uses the database.
    static func exclusive(for database: String) throws -> SQLiteSiteLock? {
        try take(for: database, LOCK_EX)
    }

    private static func take(for database: String, _ kind: Int32) throws -> SQLiteSiteLock? {
        let descriptor = open(path(for: database), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StartupError("cannot open \(path(for: database)): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, kind | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return SQLiteSiteLock(descriptor: descriptor)
    }

    func release() {
        close(descriptor)
    }
}

struct SQLiteSiteLockKey: StorageKey {
    typealias Value = SQLiteSiteLock
}
