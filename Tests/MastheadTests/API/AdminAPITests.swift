import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// The Admin API as a newsroom tool uses it: writing, publishing and uploading with a staff token.
@Suite("Admin API", .serialized)
struct AdminAPITests {
    static let root = "/api/admin/v1"

    static func token(_ site: TestSite, _ role: StaffRole, scopes: Set<AdminAPIScope> = Set(AdminAPIScope.allCases), days: Int = 30) async throws -> String {
        let staff = try await Newsroom.hire(site, role, email: "\(role.rawValue)-\(UUID().uuidString.prefix(6))@newsroom.example")
        return try await StaffTokens.create(for: staff, name: "Test", scopes: scopes, days: days, on: site.app.db).secret
    }

    static func send(_ site: TestSite, _ method: HTTPMethod, _ path: String, token: String?, json: [String: Any]? = nil, body: ByteBuffer? = nil, contentType: String? = nil) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        var headers = HTTPHeaders()
        if let token { headers.add(name: .authorization, value: "Bearer \(token)") }
        var payload = body
        if let json {
            payload = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
            headers.add(name: .contentType, value: "application/json")
        } else if let contentType {
            headers.add(name: .contentType, value: contentType)
        }
        let response = try await site.app.client.send(method, headers: headers, to: URI(string: site.baseURL + root + path)) { request in
            if let payload { request.body = payload }
        }
        let answer = response.body.flatMap { try? JSONSerialization.jsonObject(with: Data(buffer: $0)) as? [String: Any] } ?? [:]
        return (response.status, answer, response.headers)
    }

    static func article(_ site: TestSite, title: String = "Crossing reopens at dawn", status: String? = nil) async throws -> [String: Any] {
        var fields: [String: Any] = [
            "title": title, "dek": "Trucks queue for kilometres.", "edition": "en", "kind": "news", "visibility": "public",
            "body": "The crossing reopened at dawn.\n\nTrucks queued for three kilometres.",
            "authors": [try #require(try await Author.query(on: site.app.db).sort(\.$slug).first()?.slug)], "topics": ["iraq"],
        ]
        fields["status"] = status
        return fields
    }

    static func errorCode(_ answer: [String: Any]) -> String? {
        ((answer["errors"] as? [[String: Any]])?.first?["code"]) as? String
    }

    @Test("a script publishes an article with an image, and readers find it in the Content API, the feeds and the sitemaps", .enabled(if: ExternalTool.available("python3")), arguments: TestDatabase.available)
    func publishCheck(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let token = try await Self.token(site, .editor)
            let key = try await ContentAPITests.key(site)
            let script = TestSettings.repositoryRoot.appendingPathComponent("scripts/publish-check").path
            let result = try await ExternalTool.run("env", ["MASTHEAD_API_TOKEN=\(token)", "python3", script, "--key", key, site.baseURL])
            #expect(result.status == 0, "publish-check: \(result.output)")
            #expect(result.output.contains("every step passed"))
        }
    }

    @Test("a draft is written, read back with its Markdown, published, unpublished, and only a never-published draft deleted", arguments: [TestDatabase.sqlite])
    func lifecycle(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let token = try await Self.token(site, .editor)
            let (created, answer, _) = try await Self.send(site, .POST, "/articles", token: token, json: try await Self.article(site))
            #expect(created == .created)
            let article = try #require(answer["article"] as? [String: Any])
            #expect(article["status"] as? String == "draft")
            #expect(article["body"] as? String == "The crossing reopened at dawn.\n\nTrucks queued for three kilometres.")
            #expect(article["topics"] as? [String] == ["iraq"])
            let id = try #require(article["id"] as? String)
            #expect(try await site.get("/articles/\(article["slug"] as? String ?? "")").status == .notFound)

            let (published, publishedAnswer, _) = try await Self.send(site, .POST, "/articles/\(id)/publish", token: token)
            #expect(published == .ok)
            #expect((publishedAnswer["article"] as? [String: Any])?["status"] as? String == "published")
            #expect(try await eventually { try await site.get("/articles/crossing-reopens-at-dawn").status == .ok })
            let (refused, refusal, _) = try await Self.send(site, .DELETE, "/articles/\(id)", token: token)
            #expect(refused == .unprocessableEntity)
            #expect((refusal["errors"] as? [[String: Any]])?.first?["field"] as? String == "delete")

            var update = try await Self.article(site, title: "Crossing reopens, then closes")
            update["slug"] = "crossing-reopens-at-dawn"
            update["revision"] = 1
            let (conflict, conflictAnswer, _) = try await Self.send(site, .PUT, "/articles/\(id)", token: token, json: update)
            #expect(conflict == .unprocessableEntity)
            #expect((conflictAnswer["errors"] as? [[String: Any]])?.first?["field"] as? String == "conflict")
            update["revision"] = nil
            #expect(try await Self.send(site, .PUT, "/articles/\(id)", token: token, json: update).0 == .ok)

            #expect(try await Self.send(site, .POST, "/articles/\(id)/unpublish", token: token).0 == .ok)
            #expect(try await eventually { try await site.get("/articles/crossing-reopens-at-dawn").status == .notFound })

            let (_, draft, _) = try await Self.send(site, .POST, "/articles", token: token, json: try await Self.article(site, title: "A draft to throw away"))
            let draftID = try #require((draft["article"] as? [String: Any])?["id"] as? String)
            #expect(try await Self.send(site, .DELETE, "/articles/\(draftID)", token: token).0 == .noContent)
            #expect(try await Self.send(site, .GET, "/articles/\(draftID)", token: token).0 == .notFound)

            let events = try await AuditEvent.query(on: site.app.db).all().filter { $0.staffEmail.hasPrefix("editor-") }
            let audit = events.map(\.action)
            #expect(audit.contains("published") && audit.contains("unpublished") && audit.contains("deleted draft"))
            #expect(events.allSatisfy { $0.subject.hasSuffix("(via API token “Test”)") }, "\(events.map(\.subject))")
        }
    }

    @Test("a token acts within its scopes and its owner's role, until it expires or is revoked", arguments: [TestDatabase.sqlite])
    func scopesAndRoles(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (missing, missingAnswer, _) = try await Self.send(site, .POST, "/articles", token: nil, json: try await Self.article(site))
            #expect(missing == .unauthorized)
            #expect(Self.errorCode(missingAnswer) == "missing_token")

            let readOnly = try await Self.token(site, .editor, scopes: [.articlesRead])
            let (scoped, scopedAnswer, scopedHeaders) = try await Self.send(site, .POST, "/articles", token: readOnly, json: try await Self.article(site))
            #expect(scoped == .forbidden)
            #expect(Self.errorCode(scopedAnswer) == "insufficient_scope")
            #expect(scopedHeaders.first(name: .wwwAuthenticate)?.contains("insufficient_scope") == true)

            let writer = try await Self.token(site, .editor, scopes: [.articlesWrite])
            let (unscopedPublish, _, _) = try await Self.send(site, .POST, "/articles", token: writer, json: try await Self.article(site, status: "published"))
            #expect(unscopedPublish == .forbidden)

            let contributor = try await Self.token(site, .contributor)
            let (byRole, roleAnswer, _) = try await Self.send(site, .POST, "/articles", token: contributor, json: try await Self.article(site, status: "published"))
            #expect(byRole == .forbidden)
            #expect(Self.errorCode(roleAnswer) == "forbidden")

            let editor = try await Newsroom.hire(site, .editor, email: "lapsing@newsroom.example")
            let (expiring, secret) = try await StaffTokens.create(for: editor, name: "Old", scopes: [.articlesRead], days: 7, on: site.app.db, now: Date().addingTimeInterval(-8 * 86_400))
            let published = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            #expect(try await Self.send(site, .GET, "/articles/\(published.id!)", token: secret).0 == .unauthorized)
            expiring.expiresAt = Date().addingTimeInterval(86_400)
            try await expiring.save(on: site.app.db)
            #expect(try await Self.send(site, .GET, "/articles/\(published.id!)", token: secret).0 == .ok)
            try await StaffTokens.revoke(expiring, on: site.app.db)
            #expect(try await Self.send(site, .GET, "/articles/\(published.id!)", token: secret).0 == .unauthorized)
        }
    }

    @Test("a token without the publish scope cannot change a published article, nor read drafts through unpublish", arguments: [TestDatabase.sqlite])
    func writeScopeStopsAtLiveContent(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let published = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let writer = try await Self.token(site, .editor, scopes: [.articlesWrite])
            var change = try await Self.article(site, title: "Rewritten without the right")
            change["visibility"] = "public"
            let (status, answer, _) = try await Self.send(site, .PUT, "/articles/\(published.id!)", token: writer, json: change)
            #expect(status == .forbidden)
            #expect(Self.errorCode(answer) == "insufficient_scope")
            #expect(try await Article.find(published.id, on: site.app.db)?.visibility == .paid)

            let editor = try await Self.token(site, .editor)
            let (_, draft, _) = try await Self.send(site, .POST, "/articles", token: editor, json: try await Self.article(site, title: "A quiet draft"))
            let draftID = try #require((draft["article"] as? [String: Any])?["id"] as? String)
            let publisher = try await Self.token(site, .editor, scopes: [.articlesPublish])
            let (unpublished, refusal, _) = try await Self.send(site, .POST, "/articles/\(draftID)/unpublish", token: publisher)
            #expect(unpublished == .unprocessableEntity)
            #expect(refusal["article"] == nil)
        }
    }

    @Test("changing or resetting a password revokes the account's API tokens", arguments: [TestDatabase.sqlite])
    func passwordChangeRevokesTokens(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let staff = try await Newsroom.hire(site, .editor, email: "recovering@newsroom.example")
            let secret = try await StaffTokens.create(for: staff, name: "Planted", scopes: [.articlesRead], days: 365, on: site.app.db).secret
            let published = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            #expect(try await Self.send(site, .GET, "/articles/\(published.id!)", token: secret).0 == .ok)
            _ = try await StaffAccounts(database: site.app.db).resetPassword(email: staff.email, password: "a brand new long password", removeTwoStep: false)
            #expect(try await Self.send(site, .GET, "/articles/\(published.id!)", token: secret).0 == .unauthorized)
        }
    }

    @Test("bad input is a 400 naming the field; an article that cannot be saved is a 422 naming each problem", arguments: [TestDatabase.sqlite])
    func badInput(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let token = try await Self.token(site, .editor)
            var article = try await Self.article(site)
            let cases: [([String: Any], String)] = [
                (article.filter { $0.key != "title" }, "title"),
                (article.merging(["kind": "opinion"]) { $1 }, "kind"),
                (article.merging(["authors": ["nobody-at-all"]]) { $1 }, "authors"),
                (article.merging(["image": "../secret"]) { $1 }, "image"),
                (article.merging(["status": "scheduled"]) { $1 }, "publish_at"),
                (article.merging(["authors": "one"]) { $1 }, "authors"),
                (article.merging(["body": "Text\u{0}with a NUL"]) { $1 }, "body"),
            ]
            for (json, field) in cases {
                let (status, answer, _) = try await Self.send(site, .POST, "/articles", token: token, json: json)
                #expect(status == .badRequest, "\(field)")
                #expect(((answer["errors"] as? [[String: Any]])?.first?["message"] as? String)?.contains("`\(field)`") == true, "\(field): \(answer)")
            }
            let (notJSON, _, _) = try await Self.send(site, .POST, "/articles", token: token, body: ByteBuffer(string: "{"), contentType: "application/json")
            #expect(notJSON == .badRequest)
            article["title"] = "   "
            let (invalid, answer, _) = try await Self.send(site, .POST, "/articles", token: token, json: article)
            #expect(invalid == .unprocessableEntity)
            #expect((answer["errors"] as? [[String: Any]])?.contains { $0["field"] as? String == "title" } == true)
            #expect(try await Article.query(on: site.app.db).filter(\.$title == "   ").count() == 0)
        }
    }

    @Test("images are uploaded with a media token; a large body without one is refused before it is read", arguments: [TestDatabase.sqlite])
    func uploads(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let image = ByteBuffer(data: Newsroom.leadImage.data)
            let token = try await Self.token(site, .author, scopes: [.mediaWrite])
            let (stored, answer, _) = try await Self.send(site, .POST, "/images", token: token, body: image, contentType: "image/png")
            #expect(stored == .created)
            let path = try #require(answer["path"] as? String)
            #expect(try await site.get("/media/\(path)").status == .ok)
            let (notImage, notImageAnswer, _) = try await Self.send(site, .POST, "/images", token: token, body: ByteBuffer(string: "<svg onload=alert(1)>"), contentType: "image/svg+xml")
            #expect(notImage == .unprocessableEntity)
            #expect(Self.errorCode(notImageAnswer) == "invalid_image")

            let large = ByteBuffer(repeating: 0x89, count: 3 * 1024 * 1024)
            let readOnly = try await Self.token(site, .editor, scopes: [.articlesRead])
            #expect(try await Self.send(site, .POST, "/images", token: readOnly, body: large, contentType: "image/png").0 == .payloadTooLarge)
            #expect(try await Self.send(site, .POST, "/images", token: nil, body: large, contentType: "image/png").0 == .payloadTooLarge)
        }
    }

    @Test("staff make their own tokens in the admin, see each once, and revoke them", arguments: [TestDatabase.sqlite])
    func adminPage(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (author, _) = try await Newsroom.signedIn(site, as: .author)
            let form = try await author.get("/admin/tokens")
            #expect(form.status == .ok)
            let made = try await author.submitMultipart(form, action: "/admin/tokens", [("name", "Wire importer"), ("scopes[]", "articles:read"), ("scopes[]", "articles:write"), ("days", "7")])
            #expect(made.status == .ok)
            let secret = try #require(HTML.attributeValues("value", of: "input id=\"new-token\"", in: made.body).first)
            #expect(secret.hasPrefix("mht_"))
            #expect(!(try await author.get("/admin/tokens").body.contains(secret)))
            // Not found, rather than refused: the token was taken, for an article that is not there.
            let nowhere = "/articles/\(UUID())"
            #expect(try await Self.send(site, .GET, nowhere, token: secret).0 == .notFound)

            let revoke = try #require(HTML.attributeValues("action", of: "form", in: made.body).first { $0.hasSuffix("/revoke") })
            #expect(try await author.submit(try await author.get("/admin/tokens"), action: revoke, [:]).status == .seeOther)
            #expect(try await Self.send(site, .GET, nowhere, token: secret).0 == .unauthorized)
        }
    }
}
