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
            let paid = try #require(try await Article.query(on: site.app.db).filter(\.$edition == "en").filter(\.$visibility == .paid).all()
                .first { $0.hasGatedText && !$0.bodyMarkdown.contains(ArticleBody.paywallMarker) })
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
}
