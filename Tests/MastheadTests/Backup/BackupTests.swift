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
        // A data folder that does not exist yet, as on a new machine.
        let fresh = settings.dataDirectory + "/new-site"
        settings.dataDirectory = fresh
        settings.mediaDirectory = fresh + "/media"
        guard database == .postgres else {
            settings.database = .sqlite(path: fresh + "/masthead.sqlite")
            return settings
        }
        guard let url = ProcessInfo.processInfo.environment["MASTHEAD_TEST_POSTGRES_RESTORE_URL"], !url.isEmpty else { return nil }
        settings.database = .postgres(url: url)
        let app = try await MastheadApp.make(settings: settings)
        try await (app.db as! any SQLDatabase).raw("DROP SCHEMA public CASCADE").run()
        try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA public").run()
        await MastheadApp.stop(app)
        return settings
    }

    /// Publishes articles one transaction at a time, each with its text and a topic, about twenty
    /// a second (a busy newsroom and its importers, not a loop that starves the other tests of
    /// the machine), until stopped.
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
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("a backup taken while the site serves and publishes restores into an empty database and serves the same site", arguments: TestDatabase.available)
    func roundTrip(database: TestDatabase) async throws {
        // Inside the site's turn: the database restores go into is shared with other suites.
        try await withSite(on: database) { site in
            guard let target = try await Self.emptyTarget(like: database) else { return }
            let before = try await Article.query(on: site.app.db).count()
            let newsroom = Newsroom()
            let load = Task { try await newsroom.run(on: site.app.db) }
            while newsroom.published.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(20)) }
            let folder = Self.newFolder()
            let backup = try await MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings))
            newsroom.stopped.withLock { $0 = true }
            try await load.value
            #expect(backup.status == 0, "\(backup.standardError)")
            #expect(backup.standardOutput.contains("Backed up to \(folder)"))
            let media = BackupFolder.files(under: site.settings.mediaDirectory)
            #expect(!media.isEmpty)

            let restore = try await MastheadProcess.run(["restore", folder], environment: Self.environment(target))
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
                // The same page, up to its list of related articles, which the writer kept adding to.
                let story = { (page: TestSite.Page) in HTML.text(of: page.body).components(separatedBy: "Related coverage")[0] }
                #expect(story(copy) == story(original))
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
            #expect(try await MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings)).status == 0)
            let victim = try #require(BackupFolder.files(under: folder + "/media").last)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: folder + "/media/" + victim))
            try handle.seek(toOffset: 40)
            try handle.write(contentsOf: Data([0x00, 0x01, 0x02]))
            try handle.close()

            let refused = try await MastheadProcess.run(["restore", folder], environment: Self.environment(target))
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
            #expect(try await MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings)).status == 0)
            let article = try #require(try await Article.query(on: site.app.db).first())
            let title = article.title
            article.title = "Changed after the backup"
            try await article.save(on: site.app.db)
            let whileServing = try await MastheadProcess.run(["restore", "--force", folder], environment: Self.environment(site.settings))
            #expect(whileServing.status == 1)
            #expect(whileServing.standardError.contains("a Masthead process is using"))
            await site.stop()

            let refused = try await MastheadProcess.run(["restore", folder], environment: Self.environment(site.settings))
            #expect(refused.status == 1)
            #expect(refused.standardError.contains("already holds a site: restore into an empty database, or pass --force to replace it"))
            let replaced = try await MastheadProcess.run(["restore", "--force", folder], environment: Self.environment(site.settings))
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
            let refused = try await MastheadProcess.run(["backup", folder], environment: Self.environment(site.settings))
            #expect(refused.status == 1)
            #expect(refused.standardError == "masthead: \(folder) already exists and is not an empty folder: write the backup into a new folder\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["notes.txt"])
            let parent = (folder as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.contains(".partial-") && $0.contains((folder as NSString).lastPathComponent) }.isEmpty)
        }
    }
}

/// Backups taken by the background jobs on a schedule, and from the admin.
@Suite("Scheduled backups", .serialized)
struct ScheduledBackupTests {
    static func schedule(keep: Int = 2) -> ScheduledBackupSettings {
        ScheduledBackupSettings(folder: BackupTests.newFolder(), everyHours: 24, keep: keep)
    }

    @Test("a backup is taken when one is due, by one instance at a time, and only the newest few are kept")
    func onSchedule() async throws {
        let schedule = Self.schedule(keep: 2)
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false; $0.scheduledBackups = schedule }) { site in
            let backups = ScheduledBackups(settings: site.settings, schedule: schedule)
            // A folder of the operator's that looks like ours, and a backup from a newer Masthead: never removed.
            let own = schedule.folder + "/masthead-pre-upgrade"
            try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: own + "/manifest.json", contents: Data(#"{"format": "masthead-backup", "version": 99}"#.utf8))
            let start = Date()
            async let one = backups.runIfDue(site.app, now: start)
            async let other = backups.runIfDue(site.app, now: start)
            let taken = try await [one, other].compactMap { $0 }
            #expect(taken.count == 1)
            #expect(try await backups.runIfDue(site.app, now: start.addingTimeInterval(3600)) == nil)
            #expect(try await backups.runIfDue(site.app, now: start.addingTimeInterval(25 * 3600)) != nil)
            #expect(try await backups.runIfDue(site.app, now: start.addingTimeInterval(50 * 3600)) != nil)

            let kept = backups.list().map(\.name)
            #expect(kept == [ScheduledBackups.folderName(at: start.addingTimeInterval(50 * 3600)), ScheduledBackups.folderName(at: start.addingTimeInterval(25 * 3600))])
            #expect(try FileManager.default.contentsOfDirectory(atPath: schedule.folder).sorted() == (kept + ["masthead-pre-upgrade"]).sorted())
            #expect(try BackupManifest.read(from: schedule.folder + "/" + kept[0]).database == .sqlite)
        }
    }

    @Test("a backup asked for in the same second as the last one is kept beside it, not refused")
    func sameSecond() async throws {
        let schedule = Self.schedule(keep: 5)
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false; $0.scheduledBackups = schedule }) { site in
            let backups = ScheduledBackups(settings: site.settings, schedule: schedule)
            let now = Date()
            #expect(try await backups.runIfDue(site.app, now: now) != nil)
            try await backups.jobLease(on: site.app.db).request(by: "editor@news.example")
            #expect(try await backups.runIfDue(site.app, now: now) != nil)
            #expect(Set(backups.list().map(\.name)) == [ScheduledBackups.folderName(at: now), ScheduledBackups.folderName(at: now) + "-2"])
        }
    }

    @Test("a failed backup says why on the admin's page and is tried again a quarter of an hour later, not a day")
    func failureIsShown() async throws {
        let blocker = BackupTests.newFolder()
        FileManager.default.createFile(atPath: blocker, contents: Data("not a folder".utf8))
        let schedule = ScheduledBackupSettings(folder: blocker + "/backups")
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false; $0.scheduledBackups = schedule }) { site in
            let backups = ScheduledBackups(settings: site.settings, schedule: schedule)
            let start = Date()
            await #expect(throws: BackupError.self) { try await backups.runIfDue(site.app, now: start) }
            #expect(try await backups.runIfDue(site.app, now: start.addingTimeInterval(60)) == nil)
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let page = HTML.text(of: try await admin.get("/admin/backups").body)
            #expect(page.contains("Last backup: failed: cannot create the backup folder"))
            await #expect(throws: BackupError.self) { try await backups.runIfDue(site.app, now: start.addingTimeInterval(ScheduledBackups.retryAfter + 1)) }
        }
    }

    @Test("an admin asks for a backup now and sees it kept; editors cannot reach the page", arguments: TestDatabase.available)
    func fromTheAdmin(database: TestDatabase) async throws {
        let schedule = Self.schedule(keep: 5)
        try await withSite(on: database, configure: { $0.scheduledBackups = schedule }) { site in
            let backups = ScheduledBackups(settings: site.settings, schedule: schedule)
            // The first is due at once. A backup of PostgreSQL is a pg_dump, which a loaded CI
            // machine may take well over half a minute to run: the waits are for the outcome.
            for _ in 0..<1200 where backups.list().isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            #expect(backups.list().count == 1)
            let (admin, staff) = try await Newsroom.signedIn(site, as: .admin)
            let page = try await admin.get("/admin/backups")
            #expect(HTML.text(of: page.body).contains(backups.list()[0].name))

            let asked = try await admin.submit(page, action: "/admin/backups/now")
            #expect(asked.headers.first(name: .location) == "/admin/backups?done=requested")
            for _ in 0..<1200 where backups.list().count < 2 { try await Task.sleep(for: .milliseconds(100)) }
            let state = try #require(try await JobLease(database: site.app.db, name: ScheduledBackups.jobName).state())
            #expect(backups.list().count == 2, "the last run: \(state.outcome ?? "none")")
            #expect(state.requestedBy == staff.email)

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            #expect(try await editor.get("/admin/backups").status == .forbidden)
        }
    }
}
