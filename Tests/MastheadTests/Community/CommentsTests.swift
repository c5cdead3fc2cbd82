import Fluent
import Foundation
import SQLKit
import Testing
@testable import Masthead

/// Members talk about the journalism: comments and replies through the real pages, held for a
/// moderator the first time, within the paywall, and moderated from the admin.
@Suite("Comments", .serialized)
struct CommentsTests {
    @Test("a member's first comment waits for a moderator; approved, every reader sees it, their next goes up at once, and replies go one level deep", arguments: TestDatabase.available)
    func firstCommentIsModerated(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let discussion = CommentsController.page(article.id!)
            let layla = try await Self.reader(site, "layla@example.com", name: "Layla Haddad")

            let held = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "Who controls the crossing now?"])
            #expect(held.status == .seeOther)
            let own = try await layla.get(discussion).body
            #expect(own.contains("Who controls the crossing now?") && own.contains("Waiting for a moderator"))
            #expect(try await !site.get(discussion).body.contains("Who controls the crossing now?"), "a stranger does not see a held comment")

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let queue = try await editor.get("/admin/comments")
            let first = try #require(try await Masthead.Comment.query(on: site.app.db).first())
            _ = try await editor.submit(queue, action: AdminURL.moderate(first.id!, .approve))
            #expect(try await site.get(discussion).body.contains("Who controls the crossing now?"))
            #expect(try await site.get(discussion + "?fragment=1").body.hasPrefix("<section class=\"comments\""))

            _ = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "And who pays the customs duties?"])
            #expect(try await site.get(discussion).body.contains("who pays the customs duties"))

            let omar = try await Self.reader(site, "omar@example.com", name: "Omar")
            try await Self.trust("omar@example.com", site)
            let reply = try await omar.submit(try await omar.get(discussion), action: discussion, ["text": "The army, since this morning.", "parent": first.id!.uuidString])
            #expect(reply.status == .seeOther)
            let replyComment = try #require(try await Masthead.Comment.query(on: site.app.db).filter(\.$body == "The army, since this morning.").first())
            #expect(replyComment.parentID == first.id)
            _ = try await layla.post(discussion, form: ["text": "Thanks.", "parent": replyComment.id!.uuidString, "csrf": try await Self.csrf(layla.get(discussion))])
            #expect(try await Masthead.Comment.query(on: site.app.db).filter(\.$body == "Thanks.").first()?.parentID == first.id, "a reply to a reply joins the thread")
            let page = try await site.get(discussion).body
            #expect(page.contains("Comments (4)"))
            let thread = try #require(HTML.section(of: page, from: "id=\"comment-\(first.id!.uuidString.lowercased())\"", to: "</ol>"))
            #expect(thread.contains("The army, since this morning.") && thread.contains("Thanks."))
        }
    }

    @Test("a comment readers can see is counted on its article's card on the home page and in its listing; hidden, it is counted no more", arguments: TestDatabase.available)
    func countsOnCards(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let pages = ["/", "/\(article.kind.pathSegment)"]
            let countLink = "href=\"/articles/\(article.slug)#comments\">"
            for path in pages { #expect(try await !site.get(path).body.contains(countLink), "no comments, no count on \(path)") }

            let layla = try await Self.reader(site, "layla@example.com", name: "Layla Haddad")
            try await Self.trust("layla@example.com", site)
            let discussion = CommentsController.page(article.id!)
            _ = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "Who controls the crossing now?"])
            for path in pages {
                #expect(try await eventually { try await site.get(path).body.contains(countLink + "1 comment</a>") }, "counted on \(path)")
            }

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let comment = try #require(try await Masthead.Comment.query(on: site.app.db).filter(\.$articleID == article.id!).first())
            _ = try await editor.submit(try await editor.get("/admin/comments"), action: AdminURL.moderate(comment.id!, .hide))
            for path in pages {
                #expect(try await eventually { try await !site.get(path).body.contains(countLink) }, "uncounted on \(path)")
            }
        }
    }

    @Test("a paid story's count shows only to readers who may read its discussion, and a reply under a hidden comment is not counted", arguments: [TestDatabase.sqlite])
    func countsFollowTheDiscussion(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let paying = Member(email: "paying@example.com", name: "Paying Reader")
            paying.paidUntil = Date().addingTimeInterval(86_400 * 30)
            try await paying.create(on: site.app.db)
            let shown = try await Self.comment(on: article, by: paying, "Shown to paying readers.", site)
            let hidden = try await Self.comment(on: article, by: paying, "Hidden by a moderator.", site, status: .hidden)
            _ = try await Self.comment(on: article, by: paying, "A reply to the hidden one.", site, replyingTo: hidden.id)
            _ = try await Self.comment(on: article, by: paying, "A reply to the shown one.", site, replyingTo: shown.id)

            let path = "/\(article.kind.pathSegment)"
            let countLink = "href=\"/articles/\(article.slug)#comments\">"
            let payer = try await TestModeJourneyTests.signedInReader(site, email: "paying@example.com")
            #expect(try await payer.get(path).body.contains(countLink + "2 comments</a>"))
            let free = try await TestModeJourneyTests.signedInReader(site, email: "free@example.com")
            #expect(try await !site.get(path).body.contains(countLink), "a stranger sees no count")
            #expect(try await !free.get(path).body.contains(countLink), "a free member sees no count")
        }
    }

    @Test("changed counts clear the cached pages once an interval, by whichever instance claims the turn, and not at all when nothing changed", arguments: TestDatabase.available)
    func countsShownOncePerInterval(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false, configure: { $0.commentCountsInterval = .seconds(86_400) }) { site in
            let db = site.app.db
            // The site's own watcher, its last turn just now, waits a day for the next; the
            // instances this test plays come two days later.
            try await (db as! any SQLDatabase).update("site_state").set("value", to: Int64(Date().timeIntervalSince1970))
                .where("key", .equal, CommentCounts.shownAtKey).run()
            let now = Date().addingTimeInterval(2 * 86_400)
            let interval = Duration.seconds(60)
            let before = try await ContentGeneration.current(on: db)
            #expect(try await !CommentCounts.showIfChanged(counters: SiteCounters.values(on: db), interval: interval, now: now, on: db))

            try await CommentCounts.noteChange(on: db)
            let seenByBoth = try await SiteCounters.values(on: db)
            #expect(try await CommentCounts.showIfChanged(counters: seenByBoth, interval: interval, now: now, on: db))
            #expect(try await !CommentCounts.showIfChanged(counters: seenByBoth, interval: interval, now: now, on: db), "the other instance's claim finds the turn taken")
            #expect(try await ContentGeneration.current(on: db) == before + 1)

            try await CommentCounts.noteChange(on: db)
            #expect(try await !CommentCounts.showIfChanged(counters: SiteCounters.values(on: db), interval: interval, now: now.addingTimeInterval(30), on: db))
            #expect(try await CommentCounts.showIfChanged(counters: SiteCounters.values(on: db), interval: interval, now: now.addingTimeInterval(61), on: db))
            #expect(try await ContentGeneration.current(on: db) == before + 2)
        }
    }

    @Test("a comment is plain text: markup shows as typed and web addresses become links search engines do not follow")
    func plainText() {
        let html = CommentText.html("<script>alert(1)</script> & \"quotes\"\n\nSee https://example.com/report?id=1&x=2. <b>bold</b>")
        #expect(html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</p><p>See <a href=\"https://example.com/report?id=1&amp;x=2\" rel=\"nofollow ugc noopener noreferrer\">https://example.com/report?id=1&amp;x=2</a>. &lt;b&gt;bold&lt;/b&gt;</p>")
        #expect(!CommentText.html("javascript:alert(1) http://\" onmouseover=\"x").contains("<a"))
        #expect(!CommentText.html("\u{0600}<meta http-equiv=refresh content=0>").contains("<meta"), "a prefix mark cannot carry markup")
        #expect(!CommentText.html("<\u{0301}form action=/x>").contains("<\u{0301}form"))
    }

    @Test("on a paid story only paying members read and write the discussion: a free member and a stranger get none of it", arguments: [TestDatabase.sqlite])
    func paidDiscussion(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let discussion = CommentsController.page(article.id!)
            let paying = Member(email: "paying@example.com", name: "Paying Reader")
            paying.paidUntil = Date().addingTimeInterval(86_400 * 30)
            try await paying.create(on: site.app.db)
            let payer = try await Self.reader(site, "paying@example.com")
            try await Self.trust("paying@example.com", site)
            #expect(try await payer.submit(try await payer.get(discussion), action: discussion, ["text": "Subscriber-only remark about the deal."]).status == .seeOther)
            #expect(try await payer.get(discussion).body.contains("Subscriber-only remark"))

            let free = try await Self.reader(site, "free@example.com")
            for (who, page) in [("stranger", try await site.get(discussion)), ("stranger fragment", try await site.get(discussion + "?fragment=1")),
                                ("free member", try await free.get(discussion))] {
                #expect(!page.body.contains("Subscriber-only remark"), "\(who) read the paid discussion")
                #expect(!page.body.contains("name=\"text\""), "\(who) was offered the form")
            }
            #expect(try await free.get(discussion).body.contains("for those who may read it in full"))
            let refused = try await free.post(discussion, form: ["text": "Let me in.", "csrf": try await Self.csrf(free.get("/account"))])
            #expect(refused.status == .unprocessableEntity && refused.body.contains("for paying members"))
            #expect(try await Masthead.Comment.query(on: site.app.db).filter(\.$articleID == article.id!).count() == 1)
        }
    }

    @Test("a member edits their comment for five minutes and not after, deletes it, and reports another's once; reports reach the moderators", arguments: [TestDatabase.sqlite])
    func editDeleteReport(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let discussion = CommentsController.page(article.id!)
            let layla = try await Self.reader(site, "layla@example.com", name: "Layla")
            try await Self.trust("layla@example.com", site)
            _ = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "Teh first draft."])
            let comment = try #require(try await Masthead.Comment.query(on: site.app.db).filter(\.$body == "Teh first draft.").first())
            let id = comment.id!.uuidString.lowercased()
            let editPage = try await layla.get("\(discussion)?edit=\(id)")
            #expect(try await layla.submit(editPage, action: "\(discussion)/\(id)/edit", ["text": "The first draft."]).status == .seeOther)
            let edited = try await site.get(discussion).body
            #expect(edited.contains("The first draft.") && edited.contains("edited"))

            comment.createdAt = Date().addingTimeInterval(-6 * 60)
            try await comment.save(on: site.app.db)
            let late = try await layla.post("\(discussion)/\(id)/edit", form: ["text": "Too late.", "csrf": try await Self.csrf(layla.get(discussion))])
            #expect(late.status == .unprocessableEntity && late.body.contains("five minutes"))
            #expect(try await !site.get(discussion).body.contains("Too late."))

            let omar = try await Self.reader(site, "omar@example.com", name: "Omar")
            let page = try await omar.get(discussion)
            _ = try await omar.submit(page, action: "\(discussion)/\(id)/report")
            _ = try await omar.submit(page, action: "\(discussion)/\(id)/report")
            #expect(try await Masthead.Comment.find(comment.id, on: site.app.db)?.reports == 1, "one report per reader")
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let queue = try await editor.get("/admin/comments")
            let reported = try #require(HTML.section(of: queue.body, from: "id=\"comments-reported\"", to: "</section>"))
            #expect(reported.contains("The first draft.") && reported.contains("reported 1 times"))

            _ = try await layla.submit(try await layla.get(discussion), action: "\(discussion)/\(id)/delete")
            let after = try await site.get(discussion).body
            #expect(!after.contains("The first draft."))
            #expect(try await Masthead.Comment.find(comment.id, on: site.app.db)?.body == "")
        }
    }

    @Test("a moderator hides a comment and it is gone for everyone; a barred member, a listed word, too many comments at once and closed comments are each refused or held", arguments: TestDatabase.available)
    func moderation(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let discussion = CommentsController.page(article.id!)
            let layla = try await Self.reader(site, "layla@example.com", name: "Layla")
            try await Self.trust("layla@example.com", site)
            _ = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "An insult to hide."])
            let insult = try #require(try await Masthead.Comment.query(on: site.app.db).filter(\.$body == "An insult to hide.").first())
            #expect(try await site.get(discussion).body.contains("An insult to hide."))

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let articleQueue = "/admin/comments?article=\(article.id!.uuidString.lowercased())"
            _ = try await editor.submit(try await editor.get(articleQueue), action: AdminURL.moderate(insult.id!, .hide))
            #expect(try await !site.get(discussion).body.contains("An insult to hide."))
            #expect(try await !layla.get(discussion).body.contains("An insult to hide."), "hidden from its author too")

            _ = try await editor.submit(try await editor.get("/admin/comments"), action: AdminURL.commentSettings, ["words": "smuggler\nTraitor", "closed[]": "memo"])
            _ = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "The minister is a traitor."])
            #expect(try await Masthead.Comment.query(on: site.app.db).filter(\.$body == "The minister is a traitor.").first()?.status == .pending)

            for index in 0..<3 {
                _ = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "Remark number \(index)."])
            }
            let tooMany = try await layla.submit(try await layla.get(discussion), action: discussion, ["text": "One more remark."])
            #expect(tooMany.status == .tooManyRequests && tooMany.body.contains("wait a few minutes"))

            let memberID = try #require(try await Member.query(on: site.app.db).filter(\.$email == "layla@example.com").first()?.id)
            _ = try await editor.submit(try await editor.get(articleQueue), action: AdminURL.banCommenter(memberID))
            try await Masthead.Comment.query(on: site.app.db).delete()
            let barred = try await layla.post(discussion, form: ["text": "Still here.", "csrf": try await Self.csrf(layla.get("/account"))])
            #expect(barred.status == .unprocessableEntity && barred.body.contains("can no longer comment"))

            let omar = try await Self.reader(site, "omar@example.com", name: "Omar")
            #expect(try await site.get("/articles/\(article.slug)").body.contains("data-comments-src"))
            _ = try await editor.submit(try await editor.get(articleQueue), action: AdminURL.articleComments(article.id!), ["comments": "closed"])
            #expect(try await eventually { try await !site.get("/articles/\(article.slug)").body.contains("data-comments-src") })
            let closed = try await omar.get(discussion).body
            #expect(closed.contains("Comments on this story are closed.") && !closed.contains("name=\"text\""))
            let memo = try #require(try await Article.query(on: site.app.db).filter(\.$kind == .memo).filter(\.$edition == "en")
                .filter(\.$status == .published).filter(\.$visibility ~~ [.public, .members]).first())
            #expect(try await omar.get(CommentsController.page(memo.id!)).body.contains("Comments on this story are closed."), "memos are closed by default now")
            #expect(try await AuditEvent.query(on: site.app.db).filter(\.$action == "hide comment").count() == 1)
        }
    }

    // MARK: Helpers

    /// A reader signed in by the emailed link; their account is made first when a name is given.
    static func reader(_ site: TestSite, _ email: String, name: String? = nil) async throws -> TestBrowser {
        if let name, try await Member.query(on: site.app.db).filter(\.$email == email).first() == nil {
            try await Member(email: email, name: name).create(on: site.app.db)
        }
        return try await TestModeJourneyTests.signedInReader(site, email: email)
    }

    @discardableResult
    static func comment(
        on article: Article, by member: Member, _ body: String, _ site: TestSite, status: Masthead.Comment.Status = .visible, replyingTo parent: UUID? = nil, at moment: Date = Date()
    ) async throws -> Masthead.Comment {
        let comment = Masthead.Comment()
        comment.articleID = try article.requireID()
        comment.parentID = parent
        comment.memberID = try member.requireID()
        comment.authorName = member.name
        comment.body = body
        comment.status = status
        comment.reports = 0
        comment.createdAt = moment
        try await comment.create(on: site.app.db)
        return comment
    }

    /// Gives a member a past approved comment, so that their next ones go up at once.
    static func trust(_ email: String, _ site: TestSite) async throws {
        let member = try #require(try await Member.query(on: site.app.db).filter(\.$email == email).first())
        let article = try await DemoArticles.first(on: site, edition: "ar", visibility: .public)
        try await comment(on: article, by: member, "An earlier comment.", site, at: Date().addingTimeInterval(-86_400 * 3))
    }

    /// The discussion of the edition's first public article, with a comment by this member and
    /// a reply by a member of staff, as pages to check.
    static func discussion(_ site: TestSite, edition: String, by member: Member) async throws -> String {
        let article = try await DemoArticles.first(on: site, edition: edition, visibility: .public)
        let staffMember = Member(email: "desk-\(edition)@newsroom.example", name: "News Desk")
        try await staffMember.create(on: site.app.db)
        var parent: UUID?
        for (author, text, badge) in [(member, edition == "ar" ? "من يسيطر على المعبر الآن؟ https://example.com/map" : "Who controls the crossing now? https://example.com/map", nil as Masthead.Comment.Badge?),
                                      (staffMember, edition == "ar" ? "الجيش، منذ صباح اليوم." : "The army, since this morning.", .staff)] {
            let comment = Masthead.Comment()
            comment.articleID = try article.requireID()
            comment.parentID = parent
            comment.memberID = try author.requireID()
            comment.authorName = author.name
            comment.body = text
            comment.status = .visible
            comment.badge = badge
            comment.reports = 0
            comment.createdAt = Date()
            try await comment.create(on: site.app.db)
            parent = parent ?? comment.id
        }
        return CommentsController.page(try article.requireID())
    }

    static func csrf(_ page: TestSite.Page) throws -> String {
        try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: page.body).first)
    }
}
