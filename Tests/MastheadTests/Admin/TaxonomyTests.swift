import Fluent
import Foundation
import Testing
@testable import Masthead

/// Editors manage topics and authors; readers see the result.
@Suite("Topics and authors in the admin", .serialized)
struct TaxonomyTests {
    @Test("an editor creates a topic named in both editions and readers find it under each name")
    func topicInBothEditions() async throws {
        try await withSite(on: .sqlite) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let saved = try await editor.submit(try await editor.get("/admin/topics"), action: "/admin/topics", [
                "name_en": "Water security", "name_ar": "الأمن المائي", "description_en": "Rivers, dams and rain.", "kind": "theme",
            ])
            #expect(saved.status == .seeOther)
            let topic = try #require(try await Topic.query(on: site.app.db).filter(\.$slug == "water-security").with(\.$names).first())
            #expect(topic.name(in: "ar") == "الأمن المائي")

            let (_, path) = try await Newsroom.create(editor, Newsroom.articleFields(title: "Dams and drought", body: "Text.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "news", visibility: "public") + [("topics[]", topic.id!.uuidString)], action: "publish")
            #expect(path != nil)
            let page = try await site.get("/topics/water-security")
            #expect(page.body.contains("Water security") && page.body.contains("Dams and drought"))

            let renamed = try await editor.submit(try await editor.get("/admin/topics/\(topic.id!)"), action: "/admin/topics/\(topic.id!)", [
                "name_en": "Water", "name_ar": "الأمن المائي", "kind": "theme", "slug": "water-security",
            ])
            #expect(renamed.status == .seeOther)
            #expect(try await eventually { try await site.get("/topics/water-security").body.contains("<h1 class=\"listing-header__title\">Water</h1>") })
        }
    }

    @Test("an author gets a portrait and a page; one with bylines cannot be deleted")
    func authors() async throws {
        try await withSite(on: .sqlite) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let photo = TestBrowser.Upload(field: "photo", filename: "me.png", contentType: "image/png", data: Newsroom.leadImage.data)
            let saved = try await editor.submitMultipart(try await editor.get("/admin/authors"), action: "/admin/authors", [("name", "Samir Haddad"), ("bio", "Covers Lebanon.")], files: [photo])
            #expect(saved.status == .seeOther)
            let author = try #require(try await Author.query(on: site.app.db).filter(\.$slug == "samir-haddad").first())
            #expect(author.photoPath?.hasPrefix("upload-") == true)

            let withBylines = try #require(try await ArticleAuthor.query(on: site.app.db).with(\.$author).first()?.author)
            let refused = try await editor.submit(try await editor.get("/admin/authors/\(withBylines.id!)"), action: "/admin/authors/\(withBylines.id!)/delete")
            #expect(refused.status == .unprocessableEntity)
            #expect(refused.body.contains("has bylines"))
            #expect(try await Author.find(withBylines.id, on: site.app.db) != nil)

            let removed = try await editor.submit(try await editor.get("/admin/authors/\(author.id!)"), action: "/admin/authors/\(author.id!)/delete")
            #expect(removed.status == .seeOther)
            #expect(try await Author.find(author.id, on: site.app.db) == nil)
        }
    }

    @Test("an editor sees what each edition holds")
    func editions() async throws {
        try await withSite(on: .sqlite) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let page = try await editor.get("/admin/editions")
            let arabic = try await Article.query(on: site.app.db).filter(\.$edition == "ar").filter(\.$status == .published).count()
            #expect(page.body.contains("<td lang=\"ar\">العربية</td><td>ar</td><td>right to left</td><td>\(arabic)</td>"))
        }
    }

    @Test("authors and contributors cannot reach the topics, authors and editions pages")
    func onlyEditorsManageTaxonomy() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            for role in [StaffRole.contributor, .author] {
                let (browser, _) = try await Newsroom.signedIn(site, as: role)
                #expect(try await browser.get("/admin/topics").status == .forbidden)
                #expect(try await browser.get("/admin/authors").status == .forbidden)
                #expect(try await browser.get("/admin/editions").status == .forbidden)
            }
        }
    }
}
