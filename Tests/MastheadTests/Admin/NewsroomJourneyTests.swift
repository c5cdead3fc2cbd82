import Fluent
import Foundation
import Testing
@testable import Masthead

/// The admin tried as a new outlet would, start to finish, each step checked on the public site.
@Suite("A new newsroom's first article", .serialized)
struct NewsroomJourneyTests {
    @Test("the first owner comes from the CLI, invites an author, who publishes a paid analysis with an image, links its Arabic translation and corrects it")
    func firstArticle() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            guard case .sqlite(let path) = site.settings.database else { return }
            let created = try await MastheadProcess.run(
                ["user", "create", "--email", "owner@outlet.example", "--role", "owner", "--name", "Rania Owner"],
                environment: ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": site.settings.dataDirectory], input: "the owner's long password\n"
            )
            #expect(created.status == 0, "\(created.standardError)")

            let owner = TestBrowser(site: site)
            #expect(try await owner.submit(try await owner.get("/admin/signin"), action: "/admin/signin", ["email": "owner@outlet.example", "password": "the owner's long password"]).status == .seeOther)
            _ = try await owner.submitMultipart(try await owner.get("/admin/authors"), action: "/admin/authors", [("name", "Karim Aziz"), ("bio", "Covers Iraq.")])
            #expect(try await owner.submit(try await owner.get("/admin/staff"), action: "/admin/staff", ["email": "karim@outlet.example", "name": "Karim Aziz", "role": "author"]).status == .seeOther)

            let author = TestBrowser(site: site)
            let invitation = try await author.get(try DevelopmentMail.latestPath(site, containing: "/admin/password?token="))
            #expect(try await author.submit(invitation, action: "/admin/password", ["password": "karim's long password"]).status == .seeOther)
            #expect(try await author.submit(try await author.get("/admin/signin"), action: "/admin/signin", ["email": "karim@outlet.example", "password": "karim's long password"]).status == .seeOther)

            let byline = try #require(try await Author.query(on: site.app.db).filter(\.$slug == "karim-aziz").first()?.id?.uuidString)
            let (published, english) = try await Newsroom.create(author, Newsroom.articleFields(
                title: "Why Baghdad is rationing electricity", body: ArticleEditorTests.paidBody, authors: [byline]
            ) + [("imageAlt", "Power lines over Baghdad"), ("imageCaption", "Baghdad at dusk"), ("newTopics", "Iraq")], action: "publish", files: [Newsroom.leadImage])
            #expect(published.status == .seeOther)
            let page = try await site.get("/articles/why-baghdad-is-rationing-electricity")
            #expect(page.body.contains("Karim Aziz") && page.body.contains("Power lines over Baghdad"))
            #expect(page.body.contains("class=\"paywall\"") && !page.body.contains("customs ledger"))

            let (_, arabic) = try await Newsroom.create(author, Newsroom.articleFields(
                title: "لماذا تقنّن بغداد الكهرباء", body: "بدأ التقنين يوم الإثنين.", authors: [byline], edition: "ar"
            ) + [("slug", "why-baghdad-is-rationing-electricity")], action: "publish")
            let arabicEditor = try #require(arabic)
            let englishID = try #require(english?.split(separator: "/").last.map(String.init))
            #expect(try await author.submit(try await author.get(arabicEditor), action: arabicEditor + "/translation", ["translation": englishID]).status == .seeOther)
            #expect(try await eventually {
                try await site.get("/articles/why-baghdad-is-rationing-electricity").body.contains("hreflang=\"ar\" href=\"https://news.example/ar/articles/why-baghdad-is-rationing-electricity\"")
            })

            let englishEditor = try #require(english)
            #expect(try await author.submit(try await author.get(englishEditor), action: englishEditor + "/correction", ["note": "An earlier version misstated the length of the cuts."]).status == .seeOther)
            #expect(try await eventually {
                try await site.get("/articles/why-baghdad-is-rationing-electricity").body.contains("An earlier version misstated the length of the cuts.")
            })

            let audit = try await owner.get("/admin/audit")
            for entry in ["invited author", "set password", "created", "linked translation", "corrected"] {
                #expect(audit.body.contains("<td>\(entry)</td>"), "the audit log lacks \(entry)")
            }
        }
    }
}
