import Fluent
import Foundation
import SQLKit
import Vapor

/// `masthead backup`: a consistent copy of the database, taken while the site serves, with
/// the media and the signing key beside it and a manifest of checksums. The copy is made in a
/// hidden folder beside the destination and renamed into place when complete, so a backup
/// that was killed never looks like one that finished.
public enum SiteBackup {
    public enum Step: Sendable {
        case database
        case media(done: Int, total: Int)
    }

    public struct Summary: Sendable {
        public let folder: String
        public let bytes: Int64
        public let mediaFiles: Int
    }

    static let secretFile = "secret"

    public static func take(
        _ app: Application, settings: Settings, into folder: String, now: Date = Date(), progress: @escaping @Sendable (Step) -> Void = { _ in }
    ) async throws -> Summary {
        var manifest: BackupManifest?
        let destination = try await BackupFolder.writeNew(folder, describing: "backup") { staging in
            manifest = try await write(app, settings: settings, into: staging, now: now, progress: progress)
        }
        let files = manifest?.files ?? []
        return Summary(folder: destination, bytes: files.reduce(0) { $0 + $1.bytes }, mediaFiles: manifest?.mediaFiles.count ?? 0)
    }

    private static func write(
        _ app: Application, settings: Settings, into staging: String, now: Date, progress: @escaping @Sendable (Step) -> Void
    ) async throws -> BackupManifest {
        // On SQLite, connections of its own: the copy keeps one busy from start to end.
        let sql = app.backgroundDatabase as! any SQLDatabase
        let migrations = try await sql.raw("SELECT count(*) AS total FROM _fluent_migrations").first(decoding: Count.self)?.total ?? 0
        progress(.database)
        let kind: BackupManifest.DatabaseKind
        let databaseCopy = { (kind: BackupManifest.DatabaseKind) in (staging as NSString).appendingPathComponent(kind.fileName) }
        switch settings.database {
        case .sqlite:
            kind = .sqlite
            // A read transaction: writers go on meanwhile, and the copy is the database as it
            // stood when it began (https://sqlite.org/lang_vacuum.html#vacuuminto).
            try await sql.raw("VACUUM INTO \(bind: databaseCopy(kind))").run()
            try BackupFolder.flush(databaseCopy(kind))
        case .postgres(let url):
            kind = .postgresql
            try await PostgresTools(url: url).dump(to: databaseCopy(kind))
        }
        var listed = [try listing(kind.fileName, in: staging)]

        // Media files are named by their content and never changed, so those the database
        // copy names were all written before it began; later uploads come along harmlessly.
        let media = BackupFolder.files(under: settings.mediaDirectory)
        let mediaCopy = (staging as NSString).appendingPathComponent(BackupFolder.media)
        try FileManager.default.createDirectory(atPath: mediaCopy, withIntermediateDirectories: true)
        progress(.media(done: 0, total: media.count))
        for (done, name) in media.enumerated() {
            try Task.checkCancellation()
            let target = (mediaCopy as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let digest = try BackupFolder.copy((settings.mediaDirectory as NSString).appendingPathComponent(name), to: target)
            listed.append(.init(path: BackupFolder.media + "/" + name, bytes: digest.bytes, sha256: digest.sha256))
            progress(.media(done: done + 1, total: media.count))
        }

        // Without the key that signed them, links already sent (unsubscribing, signing in)
        // would stop working on the restored site.
        let secret = (settings.dataDirectory as NSString).appendingPathComponent(secretFile)
        if settings.secret == nil, FileManager.default.fileExists(atPath: secret) {
            let digest = try BackupFolder.copy(secret, to: (staging as NSString).appendingPathComponent(secretFile))
            listed.append(.init(path: secretFile, bytes: digest.bytes, sha256: digest.sha256))
        }

        let manifest = BackupManifest(
            format: BackupManifest.formatName, version: BackupManifest.currentVersion, createdAt: now,
            database: kind, migrations: migrations, files: listed
        )
        let manifestPath = (staging as NSString).appendingPathComponent(BackupManifest.fileName)
        guard FileManager.default.createFile(atPath: manifestPath, contents: try manifest.encoded(), attributes: [.posixPermissions: 0o600]) else {
            throw BackupError("cannot write \(manifestPath)")
        }
        try BackupFolder.flush(manifestPath)
        return manifest
    }

    private static func listing(_ name: String, in folder: String) throws -> BackupManifest.File {
        let digest = try BackupFolder.digest(of: (folder as NSString).appendingPathComponent(name))
        return .init(path: name, bytes: digest.bytes, sha256: digest.sha256)
    }

    struct Count: Decodable {
        let total: Int
    }
}
