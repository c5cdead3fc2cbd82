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
