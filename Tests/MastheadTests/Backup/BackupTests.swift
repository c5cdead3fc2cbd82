import Fluent
import Foundation
import SQLKit
import Synchronization
import Testing
@testable import Masthead

/// `masthead backup` and `masthead restore`, run as an operator would, against a site that
/// keeps serving and publishing while the backup is taken.
@Suite("Backup and restore", .serialized)
struct BackupTests {
    static func environment(_ settings: Settings) -> [String: String] {
        let database: String = switch settings.database {
        case .sqlite(let path): path
        case .postgres(let url): url
        }
        return ["MASTHEAD_DATABASE_URL": database, "MASTHEAD_DATA": settings.dataDirectory]
    }

    static func newFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("masthead-backup-\(UUID().uuidString)").path
    }

    /// An empty database of the same kind to restore into, with its own data folder.
    static func emptyTarget(like database: TestDatabase) async throws -> Settings? {
        var settings = try await TestDatabase.sqlite.freshSettings()
        guard database == .postgres else { return settings }
        guard let url = ProcessInfo.processInfo.environment["MASTHEAD_TEST_POSTGRES_RESTORE_URL"], !url.isEmpty else { return nil }
        settings.database = .postgres(url: url)
        let app = try await MastheadApp.make(settings: settings)
        try await (app.db as! any SQLDatabase).raw("DROP SCHEMA public CASCADE").run()
        try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA public").run()
        await MastheadApp.stop(app)
        return settings
    }

    /// Publishes articles one transaction at a time, each with its text and a topic, until stopped.
    final class Newsroom: Sendable {
        let published = Mutex<[UUID]>([])
        let stopped = Mutex(false)

        func run(on db: any Database) async throws {
            let topic = try #require(try await Topic.query(on: db).first()).requireID()
            while !stopped.withLock({ $0 }) {
                let id = UUID()
                try await db.transaction { db in
                    let article = Article(
                        slug: "load-\(id.uuidString.lowercased())", edition: "en", kind: .news, status: .published, visibility: .paid,
                        title: "Written under load", dek: "", publishedAt: Date()
                    )
                    article.id = id
                    article.setBody(markdown: "One.\n\nTwo.\n\nThree.\n\nFour, for members.", previewParagraphs: 1)
                    try await article.create(on: db)
                    try await article.saveText(on: db)
                    try await ArticleTopic(articleID: id, topicID: topic).create(on: db)
                }
                published.withLock { $0.append(id) }
            }
        }
    }

    @Test("a backup taken while the site serves and publishes restores into an empty database and serves the same site", arguments: TestDatabase.available)
    func roundTrip(database: TestDatabase) async throws {
        guard let target = try await Self.emptyTarget(like: database) else { return }
        try await withSite(on: database) { site in
            let before = try await Article.query(on: site.app.db).count()
            let newsroom = Newsroom()
            let load = Task { try await newsroom.run(on: site.app.db) }
            while newsroom.published.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(20)) }
            let folder = Self.newFolder()
            let backup = try MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings))
            newsroom.stopped.withLock { $0 = true }
            try await load.value
            #expect(backup.status == 0, "\(backup.standardError)")
            #expect(backup.standardOutput.contains("Backed up to \(folder)"))
            let media = BackupFolder.files(under: site.settings.mediaDirectory)
            #expect(!media.isEmpty)

            let restore = try MastheadProcess.run(["restore", folder], environment: Self.environment(target))
            #expect(restore.status == 0, "\(restore.standardError)")
            #expect(restore.standardOutput.contains("Restored the backup of"))

            let restored = try await TestSite.open(target)
            do {
                let written = newsroom.published.withLock { $0 }
                let kept = try await Article.query(on: restored.app.db).count()
                #expect(kept >= before + 3 && kept <= before + written.count)
                // Whatever the copy holds of the articles written meanwhile, it holds whole.
                let loaded = try await Article.query(on: restored.app.db).filter(\.$id ~~ written).with(\.$text).with(\.$topicLinks).all()
                #expect(loaded.count == kept - before)
                #expect(loaded.allSatisfy { $0.text != nil && $0.topicLinks.count == 1 })
                #expect(BackupFolder.files(under: target.mediaDirectory) == media)
                #expect(FileManager.default.contents(atPath: target.dataDirectory + "/secret") == FileManager.default.contents(atPath: site.settings.dataDirectory + "/secret"))

                let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
                let original = try await site.get("/articles/\(article.slug)")
                let copy = try await restored.get("/articles/\(article.slug)")
                #expect(copy.status == .ok)
                #expect(HTML.text(of: copy.body) == HTML.text(of: original.body))
                let (found, _) = try await SearchTests.search(restored, "/search", article.title)
                #expect(found.contains("/articles/\(article.slug)"))
            } catch {
                await restored.stop()
                throw error
            }
            await restored.stop()
        }
    }

    @Test("a damaged backup is refused in one line before anything is written")
    func damaged() async throws {
        let target = try #require(try await Self.emptyTarget(like: .sqlite))
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let folder = Self.newFolder()
            #expect(try MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings)).status == 0)
            let victim = try #require(BackupFolder.files(under: folder + "/media").last)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: folder + "/media/" + victim))
            try handle.seek(toOffset: 40)
            try handle.write(contentsOf: Data([0x00, 0x01, 0x02]))
            try handle.close()

            let refused = try MastheadProcess.run(["restore", folder], environment: Self.environment(target))
            #expect(refused.status == 1)
            #expect(refused.standardError == "masthead: media/\(victim) does not match its checksum in the manifest: the backup is damaged\n")
            guard case .sqlite(let path) = target.database else { return }
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(BackupFolder.files(under: target.mediaDirectory).isEmpty)
        }
    }

    @Test("restore refuses a database that holds a site unless told to replace it, and then replaces it whole")
    func replacing() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let folder = Self.newFolder()
            #expect(try MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings)).status == 0)
            let article = try #require(try await Article.query(on: site.app.db).first())
            let title = article.title
            article.title = "Changed after the backup"
            try await article.save(on: site.app.db)
            await site.stop()

            let refused = try MastheadProcess.run(["restore", folder], environment: Self.environment(site.settings))
            #expect(refused.status == 1)
            #expect(refused.standardError.contains("already holds a site: restore into an empty database, or pass --force to replace it"))
            let replaced = try MastheadProcess.run(["restore", "--force", folder], environment: Self.environment(site.settings))
            #expect(replaced.status == 0, "\(replaced.standardError)")
            let reopened = try await TestSite.open(site.settings)
            let restoredTitle = try await Article.find(article.id, on: reopened.app.db)?.title
            await reopened.stop()
            #expect(restoredTitle == title)
        }
    }

    @Test("a backup goes only into a new or empty folder, and says so in one line")
    func newFolderOnly() async throws {
        try await withSite(on: .sqlite, withDemo: false, configure: { $0.backgroundJobs = false }) { site in
            let folder = Self.newFolder()
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data("keep me".utf8))
            let refused = try MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings))
            #expect(refused.status == 1)
            #expect(refused.standardError == "masthead: \(folder) already exists and is not an empty folder: back up into a new folder\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["notes.txt"])
            let parent = (folder as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.contains(".partial-") && $0.contains((folder as NSString).lastPathComponent) }.isEmpty)
        }
    }
}
