import Fluent
import Foundation
import Testing
@testable import Masthead

/// The settings page, and the site following it.
@Suite("Site settings", .serialized)
struct SiteSettingsTests {
    @Test("an admin renames the outlet, adds a navigation link and shortens the preview; readers see all three", arguments: TestDatabase.available)
    func settingsReachTheSite(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let paid = try #require(try await Article.query(on: site.app.db).with(\.$text).filter(\.$edition == "en").filter(\.$visibility == .paid).all()
                .first { $0.hasGatedText && !$0.markdownSource.contains(ArticleBody.paywallMarker) })
            let before = try await site.get("/articles/\(paid.slug)")
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let saved = try await admin.submitMultipart(try await admin.get("/admin/settings"), action: "/admin/settings", [
                ("siteName", "The Levant Ledger"), ("membershipPrice", "€90"), ("previewParagraphs", "1"),
                ("memberMeter", "0"), ("anonymousMeter", "0"), ("navigation", "About us | /about"),
            ])
            #expect(saved.status == .seeOther)

            let renamed = try await eventually { try await site.get("/").body.contains("<a class=\"site-brand\" href=\"/\">The Levant Ledger</a>") }
            #expect(renamed)
            let home = try await site.get("/")
            #expect(home.body.contains("<a href=\"/about\">About us</a>"))
            // The generation reaches the cache within a poll; the page follows it.
            #expect(try await eventually { try await site.get("/articles/\(paid.slug)").body.contains("€90") })
            let after = try await site.get("/articles/\(paid.slug)")
            #expect(HTML.count(of: "p", in: HTML.section(of: after.body, from: "class=\"article__body\"", to: "</div>") ?? "")
                < HTML.count(of: "p", in: HTML.section(of: before.body, from: "class=\"article__body\"", to: "</div>") ?? ""))
            #expect(after.body.contains("€90"))
            let audit = try await admin.get("/admin/audit")
            #expect(audit.body.contains("changed settings"))
        }
    }

    @Test("a settings form with a bad number or link is refused with the reasons, and nothing changes")
    func invalidSettings() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (admin, _) = try await Newsroom.signedIn(site, as: .owner)
            let refused = try await admin.submitMultipart(try await admin.get("/admin/settings"), action: "/admin/settings", [
                ("siteName", "Renamed"), ("membershipPrice", "$100"), ("previewParagraphs", "zero"),
                ("memberMeter", "0"), ("anonymousMeter", "0"), ("navigation", "Evil | javascript:alert(1)"),
            ])
            #expect(refused.status == .unprocessableEntity)
            #expect(refused.body.contains("The preview length is a number of paragraphs from 1 to 20."))
            #expect(refused.body.contains("Write each link as: Label | /path"))
            #expect(site.settings.siteName == "Masthead Test")
            #expect(try await SiteSettingsStore.load(on: site.app.db) == SiteSettingsValues())
        }
    }

    @Test("a logo of several megabytes is taken from staff, while the same upload without a staff session is refused early")
    func largeLogo() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let original = Newsroom.leadImage.data
            let filler = [UInt8](repeating: 0x41, count: 3 * 1024 * 1024)
            var chunk = withUnsafeBytes(of: UInt32(filler.count + 2).bigEndian, Array.init) + Array("tEXt".utf8) + Array("C".utf8) + [0] + filler
            chunk += [0, 0, 0, 0]
            let large = TestBrowser.Upload(field: "logo", filename: "logo.png", contentType: "image/png", data: Data(original.prefix(33) + chunk + original.dropFirst(33)))
            let fields = [("siteName", "Big Logo News"), ("membershipPrice", "$100"), ("previewParagraphs", "3"), ("memberMeter", "0"), ("anonymousMeter", "0"), ("navigation", "")]

            let stranger = TestBrowser(site: site)
            let page = try await stranger.get("/admin/signin")
            #expect(try await stranger.submitMultipart(page, action: "/admin/signin", fields, files: [large]).status == .payloadTooLarge)

            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let saved = try await admin.submitMultipart(try await admin.get("/admin/settings"), action: "/admin/settings", fields, files: [large])
            #expect(saved.status == .seeOther)
            let logo = try #require(site.settings.logoPath)
            #expect(FileManager.default.contents(atPath: "\(site.settings.mediaDirectory)/\(logo)") == original)
        }
    }

    @Test("with the newsroom in Beirut, an editor schedules in Beirut time and the admin shows it so")
    func newsroomTimeZone() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let saved = try await owner.submitMultipart(try await owner.get("/admin/settings"), action: "/admin/settings", [
                ("siteName", "Masthead Test"), ("membershipPrice", "$100"), ("previewParagraphs", "3"), ("memberMeter", "0"), ("anonymousMeter", "0"),
                ("navigation", ""), ("timeZone", "Asia/Beirut"),
            ])
            #expect(saved.status == .seeOther)
            let author = try await Taxonomy(database: site.app.db, now: Date()).saveAuthor(nil, .init(slug: "", name: "Lina Saad", bio: "", photoPath: nil), by: try #require(try await Staff.query(on: site.app.db).first()))
            let (response, path) = try await Newsroom.create(owner, Newsroom.articleFields(title: "Morning briefing", body: "Text.", authors: [author.id!.uuidString], kind: "news", visibility: "public") + [("scheduleAt", "2099-01-15T07:00")], action: "schedule")
            #expect(response.status == .seeOther)
            let article = try #require(try await Newsroom.article(site, title: "Morning briefing"))
            #expect(article.publishedAt == ISO8601DateFormatter().date(from: "2099-01-15T05:00:00Z"))
            let editor = try await owner.get(try #require(path))
            #expect(editor.body.contains("Scheduled for 15 January 2099 at 7:00 GMT+2"))
            #expect(editor.body.contains("value=\"2099-01-15T07:00\""))
            #expect(editor.body.contains("Publish at (Asia/Beirut time)"))
        }
    }

    @Test("an unknown time zone is refused and the setting stays")
    func unknownTimeZone() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
            let refused = try await owner.submitMultipart(try await owner.get("/admin/settings"), action: "/admin/settings", [
                ("siteName", "Masthead Test"), ("membershipPrice", "$100"), ("previewParagraphs", "3"), ("memberMeter", "0"), ("anonymousMeter", "0"),
                ("navigation", ""), ("timeZone", "Mars/Olympus_Mons"),
            ])
            #expect(refused.status == .unprocessableEntity)
            #expect(site.settings.timeZone == .gmt)
        }
    }
}
