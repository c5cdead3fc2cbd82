import Foundation
import Testing
@testable import Masthead

@Suite("Exporting content", .serialized)
struct ExportTests {
    @Test("the export holds every article with its full Markdown body", arguments: TestDatabase.available)
    func fullExport(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let articles = try await DemoArticles.all(on: site)
            let data = try await ContentExport.make(from: site.app.db).json()
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let exported = try #require(document["articles"] as? [[String: Any]])

            #expect(document["format"] as? String == "masthead-export")
            #expect(exported.count == articles.count)
            let bodies = Dictionary(uniqueKeysWithValues: exported.map { ("\($0["edition"]!)/\($0["slug"]!)", $0["bodyMarkdown"] as? String) })
            for article in articles {
                #expect(bodies["\(article.edition)/\(article.slug)"] == article.markdownSource)
            }
            #expect((document["authors"] as? [Any])?.isEmpty == false)
            #expect((document["topics"] as? [Any])?.isEmpty == false)
        }
    }
}
