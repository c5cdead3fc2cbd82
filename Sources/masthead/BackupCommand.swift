import ArgumentParser
import Foundation
import Masthead

/// `masthead backup DIR`: a consistent copy of the site taken while it serves.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the database, media and signing key into a new folder, with a manifest of checksums, while the site serves."
    )

    @Argument(help: "A folder that does not exist yet, or is empty.") var folder: String

    func run() async throws {
        let started = Date()
        let summary = try await withApp(fillingSearchIndex: false) { app, settings in
            try await SiteBackup.take(app, settings: settings, into: folder) { step in
                switch step {
                case .database: Terminal.say("Copying the database…")
                case .media(let done, let total): Terminal.progress(done: done, total: total, label: "media files")
                }
            }
        }
        Terminal.say("Backed up to \(summary.folder): \(summary.mediaFiles) media \(summary.mediaFiles == 1 ? "file" : "files"), \(Self.size(summary.bytes)) in all, in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
    }

    static func size(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}

/// `masthead restore DIR`: the site as a backup holds it, into an empty database.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into the database named by MASTHEAD_DATABASE_URL (empty, unless --force), after checking every file against its checksum. Stop the site first."
    )

    @Argument(help: "A folder written by `masthead backup`.") var folder: String
    @Flag(help: "Replace a database that already holds a site.") var force = false

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let summary = try await SiteRestore.run(settings: settings, from: folder, replacing: force) { step in
            switch step {
            case .checking(let done, let total): Terminal.progress(done: done, total: total, label: "files checked")
            case .media(let done, let total): Terminal.progress(done: done, total: total, label: "media files restored")
            case .database: Terminal.say("Restoring the database…")
            }
        }
        let taken = summary.takenAt.formatted(Date.ISO8601FormatStyle())
        Terminal.say("Restored the backup of \(taken): \(summary.articles) articles, \(summary.members) members, \(summary.mediaFiles) media files.")
    }
}
