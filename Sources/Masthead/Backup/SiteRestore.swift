import Fluent
import Foundation
import SQLKit
import Vapor

/// `masthead restore`: brings a backup back into an empty database (or, when told to, over a
/// site), with its media and signing key. Every file is checked against the manifest before
/// anything is written, and the database is replaced at once: a rename for SQLite, one
/// transaction for PostgreSQL. Run it with the site's instances stopped.
public enum SiteRestore {
    public enum Step: Sendable {
        case checking(done: Int, total: Int)
        case media(done: Int, total: Int)
        case database
    }

    public struct Summary: Sendable {
        public let takenAt: Date
        public let articles: Int
        public let members: Int
        public let mediaFiles: Int
    }

    public static func run(
        settings: Settings, from folder: String, replacing: Bool, progress: @escaping @Sendable (Step) -> Void = { _ in }
    ) async throws -> Summary {
        let manifest = try BackupManifest.read(from: folder)
        let configured: BackupManifest.DatabaseKind = if case .sqlite = settings.database { .sqlite } else { .postgresql }
        guard manifest.database == configured else {
            throw BackupError("the backup is of a \(manifest.database.rawValue) database, but MASTHEAD_DATABASE_URL names \(configured.rawValue): restore it into the same kind of database")
        }
        guard manifest.migrations <= MastheadMigrations.all.count else {
            throw BackupError("the backup was made by a newer Masthead (\(manifest.migrations) migrations, this one knows \(MastheadMigrations.all.count)): restore it with that version or later")
        }
        guard let databaseFile = manifest.files.first(where: { $0.path == manifest.database.fileName }) else {
            throw BackupError("the manifest does not list \(manifest.database.fileName): the backup is damaged")
        }
        try verify(manifest, in: folder, progress: progress)
        try await checkTarget(settings: settings, replacing: replacing)
        let lock = try takeSite(settings)

        let media = manifest.mediaFiles
        progress(.media(done: 0, total: media.count))
        for (done, file) in media.enumerated() {
            let name = String(file.path.dropFirst(BackupFolder.media.count + 1))
            try place((folder as NSString).appendingPathComponent(file.path), at: (settings.mediaDirectory as NSString).appendingPathComponent(name), expecting: file.digest, permissions: 0o644)
            progress(.media(done: done + 1, total: media.count))
        }
        progress(.database)
        let copy = (folder as NSString).appendingPathComponent(manifest.database.fileName)
        do {
            switch settings.database {
            case .sqlite(let path):
                try replaceSQLite(at: path, with: copy, expecting: databaseFile.digest)
            case .postgres(let url):
                try await PostgresTools(url: url).load(copy)
            }
            // The key last: a database that failed to load leaves the old site with its own key.
            if let secret = manifest.files.first(where: { $0.path == SiteBackup.secretFile }), settings.secret == nil {
                try place((folder as NSString).appendingPathComponent(secret.path), at: (settings.dataDirectory as NSString).appendingPathComponent(SiteBackup.secretFile), expecting: secret.digest, permissions: 0o600)
            }
        } catch {
            lock?.release()
            throw error
        }
        lock?.release()

        let app = try await MastheadApp.make(settings: settings)
        do {
            try await MastheadApp.migrate(app, settings: settings)
            // A restored database is a copy, not the site's own primary: it gets an identity of its
            // own at its first boot, so that no standby of the original is ever read for it.
            try await (app.db as! any SQLDatabase).delete(from: "site_state").where("key", .equal, ReadReplica.identityKey).run()
            let summary = Summary(
                takenAt: manifest.createdAt,
                articles: try await Article.query(on: app.db).count(),
                members: try await Member.query(on: app.db).count(),
                mediaFiles: media.count
            )
            await MastheadApp.stop(app)
            return summary
        } catch {
            await MastheadApp.stop(app)
            throw error
        }
    }

    private static func verify(_ manifest: BackupManifest, in folder: String, progress: @escaping @Sendable (Step) -> Void) throws {
        progress(.checking(done: 0, total: manifest.files.count))
        for (done, file) in manifest.files.enumerated() {
            guard !file.path.split(separator: "/").contains(".."), !file.path.hasPrefix("/") else {
                throw BackupError("the manifest names a file outside the backup folder: \(file.path)")
            }
            let path = (folder as NSString).appendingPathComponent(file.path)
            guard FileManager.default.fileExists(atPath: path) else { throw BackupError("\(file.path) is missing from the backup") }
            guard try BackupFolder.digest(of: path) == file.digest else {
                throw BackupError("\(file.path) does not match its checksum in the manifest: the backup is damaged")
            }
            progress(.checking(done: done + 1, total: manifest.files.count))
        }
    }

    /// Refuses a database that holds a site unless told to replace it; empties SQLite's
    /// write-ahead log either way, so that nothing of the old file is replayed onto the new one.
    private static func checkTarget(settings: Settings, replacing: Bool) async throws {
        if case .sqlite(let path) = settings.database, !FileManager.default.fileExists(atPath: path) { return }
        let app = try await MastheadApp.make(settings: settings)
        let held: Int
        do {
            let sql = app.db as! any SQLDatabase
            var rows = 0
            for table in ["articles", "members", "staff"] where try await exists(table, on: sql) {
                rows += try await sql.raw("SELECT count(*) AS total FROM \(ident: table)").first(decoding: SiteBackup.Count.self)?.total ?? 0
            }
            // Tables that are not Masthead's (no migrations record) count as a site to keep.
            if sql.dialect.name == "postgresql", try await !exists("_fluent_migrations", on: sql) {
                rows += try await sql.raw("SELECT count(*) AS total FROM information_schema.tables WHERE table_schema = current_schema()")
                    .first(decoding: SiteBackup.Count.self)?.total ?? 0
            }
            if case .sqlite = settings.database { try await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").run() }
            held = rows
        } catch {
            await MastheadApp.stop(app)
            throw error
        }
        await MastheadApp.stop(app)
        guard held == 0 || replacing else {
            throw BackupError("the database (\(settings.database)) already holds a site: restore into an empty database, or pass --force to replace it")
        }
    }

    private static func exists(_ table: String, on sql: any SQLDatabase) async throws -> Bool {
        let query: SQLQueryString = sql.dialect.name == "postgresql"
            ? "SELECT count(*) AS total FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = \(bind: table)"
            : "SELECT count(*) AS total FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)"
        return try await sql.raw(query).first(decoding: SiteBackup.Count.self)?.total ?? 0 > 0
    }

    /// No other Masthead process may use a SQLite database while it is replaced (`SQLiteSiteLock`).
    private static func takeSite(_ settings: Settings) throws -> SQLiteSiteLock? {
        guard case .sqlite(let path) = settings.database else { return nil }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard let lock = try SQLiteSiteLock.exclusive(for: path) else {
            throw BackupError("a Masthead process is using \(path): stop the site (and any masthead command on it), then restore")
        }
        return lock
    }

    /// Copies a file into place through a temporary name beside it, checking what was copied.
    private static func place(_ source: String, at destination: String, expecting digest: BackupManifest.File.Digest, permissions: Int) throws {
        if FileManager.default.fileExists(atPath: destination), (try? BackupFolder.digest(of: destination)) == digest { return }
        try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = destination + ".restoring-\(UUID().uuidString.prefix(8))"
        do {
            guard try BackupFolder.copy(source, to: temporary, permissions: permissions) == digest else {
                throw BackupError("\(source) changed while it was being restored")
            }
            // rename(2) replaces the old file at once: never a moment with neither.
            guard rename(temporary, destination) == 0 else {
                throw BackupError("cannot move the restored file into place at \(destination): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    private static func replaceSQLite(at path: String, with copy: String, expecting digest: BackupManifest.File.Digest) throws {
        // The old log and index must go before the new file arrives: left behind, they would be
        // replayed onto it.
        for sidecar in [path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: sidecar) {
            try FileManager.default.removeItem(atPath: sidecar)
        }
        try place(copy, at: path, expecting: digest, permissions: 0o600)
    }
}
