import Foundation
import SQLKit
import Testing
@testable import Masthead

@Suite("Error pages", .serialized)
struct ErrorPageTests {
    @Test("a server failure shows a friendly 500 page that reveals nothing", arguments: TestDatabase.available)
    func internalError(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            try await (site.app.db as! any SQLDatabase).raw("DROP TABLE article_authors").run()

            let page = try await site.get("/ar/")
            #expect(page.status == .internalServerError)
            #expect(page.body.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(page.body.contains("حدث خطأ"))
            #expect(!page.body.localizedCaseInsensitiveContains("sql"))
            #expect(!page.body.contains("article_authors"))
            #expect(page.headers.first(name: .cacheControl) == "no-store")
        }
    }

    @Test("HEAD is answered like GET, without a body", arguments: [TestDatabase.sqlite])
    func head(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let response = try await site.app.client.send(.HEAD, to: .init(string: site.baseURL + "/news"))
            #expect(response.status == .ok)
            #expect(response.body == nil || response.body?.readableBytes == 0)
        }
    }
}
