import Foundation
import Testing
@testable import Masthead

/// The editor's whole path in a real browser: headless Chromium driven by selenium.
@Suite("The admin in a browser", .serialized)
struct AdminBrowserTests {
    @Test("in Chromium, an editor signs in, writes an article with an image, previews, schedules, publishes and sees it on the site",
          .enabled(if: ExternalTool.available("python3", "chromium")))
    func editorInChromium() async throws {
        try await withSite(on: .sqlite) { site in
            let editor = try await Newsroom.hire(site, .editor)
            let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/admin-browser-check").path
            let image = TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png").path
            let result = try await ExternalTool.run("python3", [script, site.baseURL, editor.email, Newsroom.password, image])
            #expect(result.status == 0, "admin-browser-check: \(result.output.suffix(3000))")
            let article = try #require(try await Newsroom.article(site, title: "Browser-written analysis of the grain corridor"))
            #expect(article.status == .published && article.visibility == .paid && article.imagePath != nil)
        }
    }
}
