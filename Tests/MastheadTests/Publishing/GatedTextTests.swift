import Fluent
import Foundation
import SQLKit
import Testing
@testable import Masthead

@Suite("Gated text kept apart")
struct GatedTextTests {
    @Test("the articles table that public pages read holds no gated text; a grant reads it from its own table", arguments: TestDatabase.available)
    func gatedTextIsApart(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let row = try #require(try await (site.app.db as! any SQLDatabase).raw("SELECT * FROM articles").first())
            #expect(row.allColumns.contains("preview_html") && row.allColumns.contains("has_gated_text"))
            #expect(!row.allColumns.contains("body_markdown") && !row.allColumns.contains("rest_html"))

            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let published = try #require(try await PublishedArticles(database: site.app.db).article(edition: "en", slug: paid.slug))
            #expect(published.$text.value == nil)
            let preview = AccessPolicy.decide(article: published, viewer: .anonymous, meter: .none)
            #expect(try await published.gatedText(for: preview, on: site.app.db) == nil)
            let full = AccessPolicy.decide(article: published, viewer: .paidMember, meter: .none)
            let text = try #require(try await published.gatedText(for: full, on: site.app.db))
            #expect(!text.html.isEmpty && text.html == ArticleBody(markdown: paid.markdownSource, previewParagraphs: 3).restHTML)
        }
    }

    @Test("an article made paid between the decision and the read hands out nothing", arguments: TestDatabase.available)
    func visibilityChangedSinceTheDecision(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let candidate = try #require(try await DemoArticles.all(on: site).first { $0.visibility == .public && $0.hasGatedText })
            let loaded = try #require(try await PublishedArticles(database: site.app.db).article(edition: candidate.edition, slug: candidate.slug))
            let access = AccessPolicy.decide(article: loaded, viewer: .anonymous, meter: .none)
            #expect(access.isFull)

            candidate.visibility = .paid
            try await candidate.save(on: site.app.db)
            let text = try await loaded.gatedText(for: access, on: site.app.db)
            #expect(text?.html == "")
        }
    }
}

@Suite("Moving gated text apart on an existing database")
struct GatedTextMigrationTests {
    @Test("migration 009 carries every body of a database built before it, and reverts cleanly", arguments: TestDatabase.available)
    func upgradeKeepsEveryBody(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let before = try await DemoArticles.all(on: site)
            let sources = Dictionary(uniqueKeysWithValues: before.map { ($0.id!, $0.markdownSource) })
            let page = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let fullBefore = HTML.text(of: try await site.get("/articles/\(page.slug)").body)

            // Back to the schema of 008, with the bodies in the articles table, then forward again.
            try await MoveGatedTextApart().revert(on: site.app.db)
            try await (site.app.db as! any SQLDatabase).delete(from: "_fluent_migrations").where("name", .equal, "009_MoveGatedTextApart").run()
            // Another SQLite connection of the pool may name the columns from the schema it read
            // before the revert, until its next statement finds the schema changed.
            #expect(try await eventually {
                let columns = try #require(try await (site.app.db as! any SQLDatabase).raw("SELECT * FROM articles").first()).allColumns
                return columns.contains("body_markdown") && !columns.contains("has_gated_text")
            })
            try await MastheadApp.migrate(site.app, settings: site.settings)

            let after = try await DemoArticles.all(on: site)
            #expect(after.count == before.count)
            for article in after {
                #expect(article.markdownSource == sources[article.id!], "\(article.slug)")
                #expect(article.hasGatedText == !ArticleBody(markdown: article.markdownSource, previewParagraphs: 3).restHTML.isEmpty)
            }
            _ = try await ContentGeneration.bump(on: site.app.db, purging: .everything)
            #expect(try await eventually { HTML.text(of: try await site.get("/articles/\(page.slug)").body) == fullBefore })
        }
    }
}
