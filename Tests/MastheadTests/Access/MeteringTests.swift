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

            // The first visit issues the reader id; the allowance starts when it comes back.
            let arrival = try await reader.get("/articles/\(paid[0].slug)")
            #expect(arrival.body.contains("class=\"paywall\""))
            #expect(reader.cookies["mh_reader"] != nil)

            let first = try await reader.get("/articles/\(paid[0].slug)")
            #expect(!first.body.contains("class=\"paywall\""))
            #expect(first.headers.first(name: .cacheControl) == "private, no-cache")

            let second = try await reader.get("/articles/\(paid[1].slug)")
            #expect(second.body.contains("class=\"paywall\""))

            let firstAgain = try await reader.get("/articles/\(paid[0].slug)")
            #expect(!firstAgain.body.contains("class=\"paywall\""))
            #expect(try await MeterRead.query(on: site.app.db).count() == 1)
        }
    }

    @Test("a reader who sends no cookie, or one Masthead did not issue, gets the preview and counts nothing", arguments: TestDatabase.available)
    func cookielessReaderGetsPreview(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.anonymousMeter = 3 }) { site in
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            for _ in 0..<3 {
                let page = try await site.get("/articles/\(paid.slug)")
                #expect(page.body.contains("class=\"paywall\""))
                #expect(page.headers.first(name: .cacheControl) == "private, no-cache")
                #expect(page.headers[.setCookie].contains { $0.hasPrefix("mh_reader=") })
            }
            let forged = try await site.get("/articles/\(paid.slug)", headers: [("Cookie", "mh_reader=\(SecretToken.generate()).bm90LWEtc2lnbmF0dXJl")])
            #expect(forged.body.contains("class=\"paywall\""))
            #expect(try await MeterRead.query(on: site.app.db).count() == 0)
        }
    }

    @Test("requests for many gated articles at once open no more than the allowance", arguments: TestDatabase.available)
    func parallelReadsAreCounted(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let articles = try await Article.query(on: site.app.db).all().compactMap(\.id)
            #expect(articles.count >= 10)
            let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
                for article in articles.prefix(10) {
                    group.addTask {
                        try await Metering(database: site.app.db, now: Date()).allows(readerKey: "reader:racing", articleID: article, allowance: 2)
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(opened == 2)
            #expect(try await MeterRead.query(on: site.app.db).count() == 2)
        }
    }

    @Test("reads older than the window are forgotten by the housekeeping sweep", arguments: TestDatabase.available)
    func oldReadsArePruned(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let now = Date()
            try await MeterRead(readerKey: "reader:old", articleID: try article.requireID(), readAt: now.addingTimeInterval(-Metering.window - 60)).create(on: site.app.db)
            try await MeterRead(readerKey: "reader:recent", articleID: try article.requireID(), readAt: now.addingTimeInterval(-60)).create(on: site.app.db)
            try await Housekeeping.sweep(site.app.db, now: now)
            #expect(try await MeterRead.query(on: site.app.db).all().map(\.readerKey) == ["reader:recent"])
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
