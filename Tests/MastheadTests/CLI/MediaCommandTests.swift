import Fluent
import Foundation
import Testing
@testable import Masthead

@Suite("Pruning the media folder from the command line")
struct MediaCommandTests {
    @Test("only old uploads that nothing names are removed; a dry run lists them and removes nothing")
    func prune() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        guard case .sqlite(let path) = settings.database else { return }
        let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": settings.dataDirectory]
        let app = try await MastheadApp.make(settings: settings)
        try await MastheadApp.migrate(app, settings: settings)
        let article = Article(slug: "with-image", edition: "en", kind: .news, status: .published, visibility: .public, title: "With image", dek: "", publishedAt: Date())
        article.setBody(markdown: "Text.", previewParagraphs: 3)
        article.imagePath = "upload-used.png"
        try await article.create(on: app.db)
        await MastheadApp.stop(app)

        let media = settings.mediaDirectory
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        let twoDaysAgo = Date().addingTimeInterval(-2 * 86_400)
        for name in ["upload-used.png", "upload-unused.png", "upload-fresh.png", "notes.txt"] {
            FileManager.default.createFile(atPath: "\(media)/\(name)", contents: Data(name.utf8))
            if name != "upload-fresh.png" {
                try FileManager.default.setAttributes([.modificationDate: twoDaysAgo], ofItemAtPath: "\(media)/\(name)")
            }
        }

        let dryRun = try await MastheadProcess.run(["media", "prune", "--dry-run"], environment: environment)
        #expect(dryRun.status == 0, "\(dryRun.standardError)")
        #expect(dryRun.standardOutput == "would remove upload-unused.png\n1 unused image found; nothing removed.\n")
        #expect(FileManager.default.fileExists(atPath: "\(media)/upload-unused.png"))

        let pruned = try await MastheadProcess.run(["media", "prune"], environment: environment)
        #expect(pruned.standardOutput == "removed upload-unused.png\n1 unused image removed.\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: media).sorted()
        #expect(left == ["notes.txt", "upload-fresh.png", "upload-used.png"])
    }
}
