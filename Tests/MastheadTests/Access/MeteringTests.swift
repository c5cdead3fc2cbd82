import Fluent
import Foundation
import Testing
@testable import Masthead

@Suite("The metered allowance", .serialized)
struct MeteringTests {
    @Test("an anonymous reader opens as many gated articles as the allowance, counted on the server", arguments: TestDatabase.available)
    func anonymousMeter(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.anonymousMeter = 1 }) { site in
            let paid = try await Article.query(on: site.app.db).filter(\.$edition == "en").filter(\.$visibility == .paid).all()
                .filter(\.hasGatedText)
            #expect(paid.count >= 2)
            let reader = TestBrowser(site: site)

            let first = try await reader.get("/articles/\(paid[0].slug)")
            #expect(!first.body.contains("class=\"paywall\""))
            #expect(first.headers.first(name: .cacheControl) == "private, no-cache")
            #expect(reader.cookies["mh_reader"] != nil)

            let second = try await reader.get("/articles/\(paid[1].slug)")
            #expect(second.body.contains("class=\"paywall\""))

            let firstAgain = try await reader.get("/articles/\(paid[0].slug)")
            #expect(!firstAgain.body.contains("class=\"paywall\""))

            // Another reader (or the same one without cookies) starts a count of their own and
            // never receives the first reader's opened page from the cache.
            let stranger = try await site.get("/articles/\(paid[1].slug)")
            #expect(!stranger.body.contains("class=\"paywall\""))
            #expect(try await MeterRead.query(on: site.app.db).count() == 2)
        }
    }

    @Test("without metering, nothing is counted and no reader cookie is set", arguments: [TestDatabase.sqlite])
    func noMeter(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let page = try await site.get("/articles/\(paid.slug)")
            #expect(page.body.contains("class=\"paywall\""))
            #expect(page.headers[.setCookie].isEmpty)
            #expect(try await MeterRead.query(on: site.app.db).count() == 0)
        }
    }
}
