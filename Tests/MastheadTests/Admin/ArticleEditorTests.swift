import Fluent
import Foundation
import Testing
@testable import Masthead

/// Writing, publishing, scheduling and changing articles in the admin, seen on the public site.
@Suite("The article editor", .serialized)
struct ArticleEditorTests {
    static let paidBody = """
    The crossing reopened on Monday after eleven weeks.

    Traders queued from dawn, and the first lorries crossed before noon.

    <!-- paywall -->

    The customs ledger shows a forty percent fall in declared cargo since the spring.
    """

    @Test("an editor publishes an analysis with an image and a paid section; readers see the preview, subscribers the rest", arguments: TestDatabase.available)
    func publishWithImageAndPaidSection(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let authors = try await Newsroom.authorIDs(site, count: 2)
            let (response, editor) = try await Newsroom.create(browser, Newsroom.articleFields(
                title: "Border trade resumes at Al-Qaim", body: Self.paidBody, authors: authors
            ) + [("newTopics", "Iraq, Border crossings"), ("imageAlt", "Lorries queue at a border gate"), ("imageCaption", "The Al-Qaim gate on Monday"), ("imageCredit", "Photo: Test Agency")],
                action: "publish", files: [Newsroom.leadImage])
            #expect(response.status == .seeOther)
            let editorPage = try await browser.get(try #require(response.headers.first(name: .location)))
            #expect(editorPage.body.contains("Published: it is on the site now."))
            #expect(editor?.hasPrefix("/admin/articles/") == true)

            let page = try await site.get("/articles/border-trade-resumes-at-al-qaim")
            #expect(page.status == .ok)
            #expect(page.body.contains("<h1 class=\"article__title\">Border trade resumes at Al-Qaim</h1>"))
            #expect(page.body.contains("Traders queued from dawn"))
            #expect(page.body.contains("class=\"paywall\""))
            #expect(!page.body.contains("customs ledger"))
            #expect(page.body.contains("alt=\"Lorries queue at a border gate\""))
            #expect(page.body.contains("width=\"160\" height=\"90\""))
            #expect(page.body.contains("The Al-Qaim gate on Monday"))
            #expect(page.body.contains("href=\"/topics/border-crossings\""))
            let image = try #require(HTML.attributeValues("src", of: "img", in: page.body).first { $0.hasPrefix("/media/upload-") })
            let served = try await site.get(image)
            #expect(served.status == .ok && served.headers.first(name: .contentType) == "image/png")
            #expect(Data(buffer: served.bytes) == Newsroom.leadImage.data)

            let subscriber = Member(email: "subscriber@example.com", name: "Subscriber")
            subscriber.paidUntil = Date().addingTimeInterval(30 * 24 * 3600)
            try await subscriber.create(on: site.app.db)
            let session = try await MemberSessions(database: site.app.db, now: Date()).create(for: subscriber)
            let full = try await site.get("/articles/border-trade-resumes-at-al-qaim", headers: [("Cookie", "mh_session=\(session)")])
            #expect(full.body.contains("customs ledger"))
            #expect(try await eventually { try await site.get("/").body.contains("Border trade resumes at Al-Qaim") })
        }
    }

    @Test("a draft stays off the site until it is published, and unpublishing takes it down")
    func draftPublishUnpublish() async throws {
        try await withSite(on: .sqlite) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let fields = Newsroom.articleFields(title: "A memo still in draft", body: "One paragraph.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "memo", visibility: "public")
            let (_, path) = try await Newsroom.create(browser, fields, action: "save")
            let editor = try #require(path)
            #expect(try await Newsroom.article(site, title: "A memo still in draft")?.status == .draft)
            #expect(try await site.get("/articles/a-memo-still-in-draft").status == .notFound)

            #expect(try await Newsroom.edit(browser, editor, [], action: "publish").status == .seeOther)
            #expect(try await site.get("/articles/a-memo-still-in-draft").status == .ok)

            #expect(try await Newsroom.edit(browser, editor, [], action: "unpublish").status == .seeOther)
            #expect(try await eventually { try await site.get("/articles/a-memo-still-in-draft").status == .notFound })
        }
    }

    @Test("changing a published article's slug sends its old address to the new one for good")
    func slugRedirect() async throws {
        try await withSite(on: .sqlite) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let fields = Newsroom.articleFields(title: "Oil talks stall", body: "Talks stalled.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "news", visibility: "public")
            let (_, path) = try await Newsroom.create(browser, fields, action: "publish")
            #expect(try await Newsroom.edit(browser, try #require(path), [("slug", "oil-talks-stall-in-vienna")], action: "save").status == .seeOther)

            let old = try await site.get("/articles/oil-talks-stall")
            #expect(old.status == .movedPermanently)
            #expect(old.headers.first(name: .location) == "/articles/oil-talks-stall-in-vienna")
            #expect(try await site.get("/articles/oil-talks-stall-in-vienna").status == .ok)

            let (taken, _) = try await Newsroom.create(browser, Newsroom.articleFields(title: "Oil talks stall", body: "Another.", authors: try await Newsroom.authorIDs(site, count: 1)), action: "save")
            #expect(taken.status == .unprocessableEntity)
            #expect(taken.body.contains("links to it still lead there"))
            #expect(try await site.get("/articles/oil-talks-stall").status == .movedPermanently)
        }
    }

    @Test("an article scheduled for later is published by the scheduler, also when its time passed during a restart", arguments: TestDatabase.available)
    func scheduledPublishingSurvivesRestart(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let fields = Newsroom.articleFields(title: "Election results due", body: "Counting continues.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "news", visibility: "public")
            let (response, _) = try await Newsroom.create(browser, fields + [("scheduleAt", "2099-01-01T06:00")], action: "schedule")
            #expect(response.status == .seeOther)
            let article = try #require(try await Newsroom.article(site, title: "Election results due"))
            #expect(article.status == .scheduled)
            #expect(article.publishedAt == ISO8601DateFormatter().date(from: "2099-01-01T06:00:00Z"))
            #expect(try await site.get("/articles/election-results-due").status == .notFound)

            // The server goes down; while it is down, the scheduled time passes.
            let restarted = try await site.restarted()
            article.publishedAt = Date().addingTimeInterval(-60)
            try await article.save(on: restarted.app.db)
            let published = try await eventually { try await restarted.get("/articles/election-results-due").status == .ok }
            #expect(published)
            #expect(try await Article.find(article.id, on: restarted.app.db)?.status == .published)
            let audit = try await AuditEvent.query(on: restarted.app.db).filter(\.$action == "published on schedule").all()
            #expect(audit.map(\.subject) == ["Election results due"])
            await restarted.stop()
        }
    }

    @Test("a problem in the form is shown beside the fields kept as typed, and nothing is saved")
    func invalidFormKeepsInput() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let svg = TestBrowser.Upload(field: "image", filename: "x.svg", contentType: "image/svg+xml", data: Data("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".utf8))
            let (response, _) = try await Newsroom.create(browser, [("title", ""), ("dek", "Kept dek"), ("edition", "en"), ("kind", "news"), ("visibility", "public"), ("body", "Kept body text.")], action: "publish", files: [svg])
            #expect(response.status == .unprocessableEntity)
            #expect(response.body.contains("Nothing was saved"))
            #expect(response.body.contains("Upload a JPEG, PNG or WebP image."))
            #expect(response.body.contains("Kept body text."))
            #expect(response.body.contains(">Kept dek</textarea>"))
            #expect(try await Article.query(on: site.app.db).count() == 0)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: site.settings.mediaDirectory)) ?? []).isEmpty)

            let (noHeadline, _) = try await Newsroom.create(browser, [("title", " "), ("edition", "en"), ("kind", "news"), ("visibility", "public"), ("body", "Text.")], action: "save")
            #expect(noHeadline.status == .unprocessableEntity)
            #expect(noHeadline.body.contains("Give the article a headline."))
            #expect(try await Article.query(on: site.app.db).count() == 0)
        }
    }

    @Test("the preview shows the body as readers get it, with the paywall's place marked")
    func preview() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .contributor)
            let form = try await browser.get("/admin/articles/new")
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: form.body).first)
            let live = try await browser.post("/admin/preview", form: ["body": Self.paidBody, "csrf": token])
            #expect(live.status == .ok)
            #expect(live.body.contains("<p>Traders queued from dawn, and the first lorries crossed before noon.</p>\n<p class=\"preview-paywall\""))
            #expect(live.body.contains("customs ledger"))
            #expect(try await browser.post("/admin/preview", form: ["body": "x"]).status == .forbidden)

            let (page, _) = try await Newsroom.create(browser, [("title", "Preview only"), ("edition", "en"), ("kind", "news"), ("visibility", "paid"), ("body", Self.paidBody)], action: "preview")
            #expect(page.status == .ok)
            #expect(page.body.contains("Paywall: readers without access stop here"))
            #expect(try await Article.query(on: site.app.db).count() == 0)
        }
    }

    @Test("every save keeps a revision; the diff shows what changed and a restore brings it back")
    func revisions() async throws {
        try await withSite(on: .sqlite) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let fields = Newsroom.articleFields(title: "First headline", body: "Line one.\n\nLine two.", authors: try await Newsroom.authorIDs(site, count: 1))
            let (_, path) = try await Newsroom.create(browser, fields, action: "save")
            let editor = try #require(path)
            _ = try await Newsroom.edit(browser, editor, [("title", "Second headline"), ("body", "Line one.\n\nLine two, rewritten.")], action: "save")

            let list = try await browser.get(editor + "/revisions")
            #expect(list.body.components(separatedBy: "See changes").count - 1 == 2)
            let newest = try #require(HTML.internalLinks(in: list.body).first { $0.hasPrefix(editor + "/revisions/") })
            let diff = try await browser.get(newest)
            #expect(diff.body.contains("<span class=\"diff-removed\">− Line two.</span>"))
            #expect(diff.body.contains("<span class=\"diff-added\">+ Line two, rewritten.</span>"))
            #expect(diff.body.contains("<th scope=\"row\">Headline</th><td dir=\"auto\">First headline</td><td dir=\"auto\">Second headline</td>"))

            let oldest = try #require(HTML.internalLinks(in: list.body).last { $0.hasPrefix(editor + "/revisions/") })
            let restored = try await browser.submit(try await browser.get(oldest), action: oldest + "/restore")
            #expect(restored.status == .seeOther)
            let article = try #require(try await Article.query(on: site.app.db).with(\.$text).filter(\.$title == "First headline").first())
            #expect(article.markdownSource == "Line one.\n\nLine two.")
            #expect(try await ArticleRevision.query(on: site.app.db).filter(\.$article.$id == article.id!).count() == 3)
        }
    }

    @Test("a correction is published under the article with its date, and the article shows it was updated")
    func correction() async throws {
        try await withSite(on: .sqlite) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let fields = Newsroom.articleFields(title: "Dam level falls", body: "The level fell by 3 metres.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "news", visibility: "public")
            let (_, path) = try await Newsroom.create(browser, fields, action: "publish")
            let editor = try #require(path)
            _ = try await site.get("/articles/dam-level-falls")
            let response = try await browser.submit(try await browser.get(editor), action: editor + "/correction", ["note": "An earlier version gave the fall as 30 metres."])
            #expect(response.status == .seeOther)
            let corrected = try await eventually {
                try await site.get("/articles/dam-level-falls").body.contains("An earlier version gave the fall as 30 metres.")
            }
            #expect(corrected)
            let page = try await site.get("/articles/dam-level-falls")
            #expect(page.body.contains("<h2 class=\"corrections__title\" id=\"corrections-title\">Corrections</h2>"))
            #expect(page.body.contains("class=\"article__updated\""))
        }
    }

    @Test("linking an Arabic translation makes each version point at the other with hreflang")
    func translationLink() async throws {
        try await withSite(on: .sqlite) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let authors = try await Newsroom.authorIDs(site, count: 1)
            let (_, english) = try await Newsroom.create(browser, Newsroom.articleFields(title: "Water deal signed", body: "Text.", authors: authors, kind: "news", visibility: "public"), action: "publish")
            let (_, arabic) = try await Newsroom.create(browser, Newsroom.articleFields(title: "توقيع اتفاق المياه", body: "نص.", authors: authors, edition: "ar", kind: "news", visibility: "public") + [("slug", "water-deal-signed")], action: "publish")
            let englishID = try #require(english?.split(separator: "/").last.map(String.init))
            let arabicEditor = try await browser.get(try #require(arabic))
            #expect(arabicEditor.body.contains("class=\"article__body editor-preview\" lang=\"ar\" dir=\"rtl\""))
            let linked = try await browser.submit(arabicEditor, action: try #require(arabic) + "/translation", ["translation": englishID])
            #expect(linked.status == .seeOther)

            let englishPage = try await site.get("/articles/water-deal-signed")
            #expect(englishPage.body.contains("<link rel=\"alternate\" hreflang=\"ar\" href=\"https://news.example/ar/articles/water-deal-signed\">"))
            let arabicPage = try await site.get("/ar/articles/water-deal-signed")
            #expect(arabicPage.body.contains("<link rel=\"alternate\" hreflang=\"en\" href=\"https://news.example/articles/water-deal-signed\">"))
        }
    }

    @Test("when a colleague saved since the form was opened, saving is stopped with their name, and a second save goes through")
    func concurrentEdits() async throws {
        try await withSite(on: .sqlite) { site in
            let (nadia, _) = try await Newsroom.signedIn(site, as: .editor, email: "nadia@newsroom.example")
            let (omar, _) = try await Newsroom.signedIn(site, as: .editor, email: "omar@newsroom.example")
            let (_, path) = try await Newsroom.create(nadia, Newsroom.articleFields(title: "Budget vote delayed", body: "The vote was delayed.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "news", visibility: "public"), action: "publish")
            let editor = try #require(path)
            let omarsForm = try await omar.get(editor)
            #expect(try await Newsroom.edit(nadia, editor, [("title", "Budget vote delayed to Thursday")], action: "save").status == .seeOther)

            let omarsVersion = Newsroom.articleFields(title: "Budget vote delayed again", body: "The vote was delayed again.", authors: try await Newsroom.authorIDs(site, count: 1), kind: "news", visibility: "public")
                + [("slug", "budget-vote-delayed"), ("action", "save")]
            let stale = try await omar.submitMultipart(omarsForm, action: editor, omarsVersion)
            #expect(stale.status == .unprocessableEntity)
            #expect(stale.body.contains("Test Editor saved this article at"))
            #expect(stale.body.contains("The vote was delayed again."))
            #expect(try await Newsroom.article(site, title: "Budget vote delayed to Thursday") != nil)

            let second = try await omar.submitMultipart(stale, action: editor, omarsVersion)
            #expect(second.status == .seeOther)
            #expect(try await eventually { try await site.get("/articles/budget-vote-delayed").body.contains("class=\"article__updated\"") })
        }
    }

    @Test("the article list pages through fifty at a time, keeping its filters")
    func listPagination() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            for number in 1...55 {
                let article = Article(slug: "memo-\(number)", edition: "en", kind: .memo, status: .draft, visibility: .public, title: "Memo \(number)", dek: "", publishedAt: nil)
                article.setBody(markdown: "Text.", previewParagraphs: 3)
                try await article.create(on: site.app.db)
            }
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let first = try await browser.get("/admin?kind=memo")
            #expect(first.body.contains("55 articles"))
            #expect(first.body.components(separatedBy: "<tr><td dir=\"auto\"><a href=\"/admin/articles/").count - 1 == 50)
            let older = try #require(HTML.internalLinks(in: first.body).first { $0.contains("page=2") })
            #expect(older.contains("kind=memo"))
            let second = try await browser.get(older.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(second.body.components(separatedBy: "<tr><td dir=\"auto\"><a href=\"/admin/articles/").count - 1 == 5)
        }
    }

    @Test("a demo article's history starts with its import, and an edit is shown against it")
    func demoHistory() async throws {
        try await withSite(on: .sqlite) { site in
            let (browser, _) = try await Newsroom.signedIn(site, as: .editor)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let editor = "/admin/articles/\(article.id!)"
            #expect(try await Newsroom.edit(browser, editor, [("dek", "A sharper dek.")], action: "save").status == .seeOther)
            let list = try await browser.get(editor + "/revisions")
            #expect(list.body.contains("<td>1</td>") && list.body.contains("<td>Demo import</td><td>imported</td>"))
            let newest = try #require(HTML.internalLinks(in: list.body).first { $0.hasPrefix(editor + "/revisions/") })
            let diff = try await browser.get(newest)
            #expect(diff.body.contains("<th scope=\"row\">Dek</th>"))
            #expect(diff.body.contains("The body did not change."))
        }
    }

    @Test("a draft never published can be deleted by whoever may edit it; a published one cannot")
    func deleteDraft() async throws {
        try await withSite(on: .sqlite) { site in
            let (contributor, _) = try await Newsroom.signedIn(site, as: .contributor)
            let (_, path) = try await Newsroom.create(contributor, [("title", "A false start"), ("edition", "en"), ("kind", "news"), ("visibility", "public"), ("body", "Text.")], action: "save")
            let draft = try #require(path)
            let deleted = try await contributor.submit(try await contributor.get(draft), action: draft + "/delete")
            #expect(deleted.status == .seeOther)
            #expect(try await Newsroom.article(site, title: "A false start") == nil)
            #expect(try await ArticleRevision.query(on: site.app.db).join(Article.self, on: \ArticleRevision.$article.$id == \Article.$id).filter(Article.self, \.$title == "A false start").count() == 0)

            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let published = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let page = try await editor.get("/admin/articles/\(published.id!)")
            #expect(!page.body.contains("Delete this draft"))
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: page.body).first)
            let refused = try await editor.post("/admin/articles/\(published.id!)/delete", form: ["csrf": token])
            #expect(refused.status == .unprocessableEntity)
            #expect(try await Article.find(published.id, on: site.app.db) != nil)
        }
    }

    @Test("two articles saved at the same moment with one slug: one is saved, the other is told, and neither is a server error", arguments: TestDatabase.available)
    func slugRace(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let staff = try await Newsroom.hire(site, .editor)
            let editor = ArticleEditor(database: site.app.db, previewParagraphs: 3, editionCodes: ["en", "ar"], now: Date())
            var draft = ArticleDraft.empty(edition: "en")
            draft.title = "Same slug"
            draft.body = "Text."
            let results = await withTaskGroup(of: Result<Article, any Error>.self) { group in
                for _ in 0..<4 {
                    group.addTask { [draft] in
                        do { return .success(try await editor.create(draft, action: .save, by: staff)) } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { if case .success = $0 { true } else { false } }.count == 1)
            for case .failure(let error) in results {
                #expect(error is EditorialError, "a racing save failed with \(error)")
            }
            #expect(try await Article.query(on: site.app.db).count() == 1)
        }
    }

    @Test("staff see an unpublished article's page as a reader, a free member and a subscriber would, through the access decision")
    func readerViews() async throws {
        try await withSite(on: .sqlite) { site in
            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            let (_, path) = try await Newsroom.create(author, Newsroom.articleFields(title: "Not out yet", body: ArticleEditorTests.paidBody, authors: try await Newsroom.authorIDs(site, count: 1)), action: "save")
            let editor = try #require(path)
            let page = try await author.get(editor)
            #expect(page.body.contains("See the page as <a href=\"\(editor)/page?as=anonymous\">a reader</a>"))

            let asReader = try await author.get(editor + "/page?as=anonymous")
            #expect(asReader.status == .ok)
            #expect(asReader.body.contains("<h1 class=\"article__title\">Not out yet</h1>") && asReader.body.contains("class=\"paywall\""))
            #expect(!asReader.body.contains("customs ledger"))
            #expect(asReader.headers.first(name: .cacheControl) == "no-store")
            let asMember = try await author.get(editor + "/page?as=member")
            #expect(!asMember.body.contains("customs ledger"))
            let asSubscriber = try await author.get(editor + "/page?as=paid")
            #expect(asSubscriber.body.contains("customs ledger"))

            #expect(try await site.get(editor + "/page?as=paid").status == .seeOther)
            let (colleague, _) = try await Newsroom.signedIn(site, as: .author, email: "colleague@newsroom.example")
            #expect(try await colleague.get(editor + "/page?as=paid").status == .forbidden)
        }
    }
}
