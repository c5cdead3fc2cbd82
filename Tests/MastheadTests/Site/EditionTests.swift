import Foundation
import Testing
@testable import Masthead

@Suite("Editions")
struct EditionTests {
    @Test("a new edition needs only a translation file and a setting")
    func addEditionByConfiguration() async throws {
        let theme = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-theme-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: TestSettings.themeDirectory, toPath: theme.path)
        defer { try? FileManager.default.removeItem(at: theme) }
        var turkish = try JSONSerialization.jsonObject(with: Data(contentsOf: theme.appendingPathComponent("locales/en.json"))) as! [String: Any]
        turkish["edition"] = ["name": "Türkçe", "direction": "ltr", "locale": "tr_TR", "openGraphLocale": "tr_TR"]
        var strings = turkish["strings"] as! [String: String]
        strings["skip_to_content"] = "Ana içeriğe geç"
        turkish["strings"] = strings
        try JSONSerialization.data(withJSONObject: turkish).write(to: theme.appendingPathComponent("locales/tr.json"))

        try await withSite(on: .sqlite, withDemo: false, configure: {
            $0.themeDirectory = theme.path
            $0.editionCodes = ["en", "ar", "tr"]
        }) { site in
            let home = try await site.get("/tr/")
            #expect(home.status == .ok)
            #expect(home.body.contains("<html lang=\"tr\" dir=\"ltr\">"))
            #expect(home.body.contains("Ana içeriğe geç"))
            #expect(HTML.attributeValues("hreflang", of: "a", in: home.body) == ["en", "ar", "tr"])
            #expect(try await site.get("/tr/news").status == .ok)
        }
    }

    @Test("an edition without a translation file stops start-up with a clear reason")
    func missingTranslationFile() async throws {
        await #expect(throws: ThemeError.self) {
            try await withSite(on: .sqlite, withDemo: false, configure: { $0.editionCodes = ["en", "xx"] }) { _ in }
        }
    }
}
