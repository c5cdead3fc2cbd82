import Foundation
import Testing
@testable import Masthead

/// `scripts/leak-check`, the operator's version of the leak test, run against a live test site.
@Suite("The leak-check script", .serialized)
struct LeakCheckScriptTests {
    @Test("finds no leaks on a correct site", .enabled(if: ExternalTool.available("python3")))
    func cleanSite() async throws {
        try await withSite(on: .sqlite) { site in
            let result = try await runLeakCheck(on: site)
            #expect(result.status == 0, "\(result.output.suffix(2000))")
            #expect(result.output.contains(", 0 leaks"))
        }
    }

    @Test("reports leaks when the split is broken", .enabled(if: ExternalTool.available("python3")))
    func brokenSplit() async throws {
        try await withSite(on: .sqlite, configure: { $0.previewParagraphs = 100 }) { site in
            let result = try await runLeakCheck(on: site)
            #expect(result.status == 1)
            #expect(result.output.contains("LEAK"))
        }
    }

    @Test("counts a paid live story's updates as secrets, and finds them nowhere a reader who may not read them looks", .enabled(if: ExternalTool.available("python3")))
    func paidLiveUpdates() async throws {
        try await withSite(on: .sqlite) { site in
            let before = try Self.secretSentences(in: try await runLeakCheck(on: site).output)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let editor = try await Newsroom.hire(site, .editor)
            let desk = LiveDesk(database: site.app.db, now: Date())
            _ = try await desk.open(article, summary: "Summary for everyone.", by: editor)
            _ = try await desk.post(article, .init(
                headline: "", markdown: "Subscribers alone learn that the convoy turned back at the second checkpoint. The governor's office confirmed the order an hour later.",
                keyEvent: false, pinned: false
            ), by: editor)

            let result = try await runLeakCheck(on: site)
            #expect(result.status == 0, "\(result.output.suffix(2000))")
            #expect(result.output.contains(", 0 leaks"))
            #expect(try Self.secretSentences(in: result.output) == before + 2)
        }
    }

    private static func secretSentences(in output: String) throws -> Int {
        let pattern = try NSRegularExpression(pattern: "pages checked, ([0-9]+) secret sentences")
        guard let match = pattern.matches(in: output, range: NSRange(output.startIndex..., in: output)).last,
              let range = Range(match.range(at: 1), in: output), let count = Int(output[range]) else {
            throw TestSupportError("no count of secret sentences in: \(output.suffix(500))")
        }
        return count
    }

    /// The export is what the script compares against; the split it assumes is the default's.
    private func runLeakCheck(on site: TestSite) async throws -> ExternalTool.Result {
        let export = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-export-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: export) }
        FileManager.default.createFile(atPath: export.path, contents: nil)
        let file = try FileHandle(forWritingTo: export)
        _ = try await SiteExport.write(site.app, settings: site.settings) { try file.write(contentsOf: $0) }
        try file.close()
        let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/leak-check").path
        return try await ExternalTool.run("python3", [script, site.baseURL, "--export", export.path, "--preview-paragraphs", "3"])
    }
}
