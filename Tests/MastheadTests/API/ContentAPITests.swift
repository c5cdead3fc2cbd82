import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// The Content API as an app or a partner's site uses it.
@Suite("Content API", .serialized)
struct ContentAPITests {
    static let root = "/api/content/v1"

    static func key(_ site: TestSite, _ access: APIIntegration.Access = .public) async throws -> String {
        try await APIKeys.create(name: "Test \(access.rawValue)", access: access, by: nil, on: site.app.db).key
    }

    static func get(_ site: TestSite, _ path: String, key: String?, headers: [(String, String)] = []) async throws -> (TestSite.Page, [String: Any]) {
        let page = try await site.get(root + path, headers: (key.map { [("Authorization", "Bearer \($0)")] } ?? []) + headers)
        let json = (try? JSONSerialization.jsonObject(with: Data(page.body.utf8))) as? [String: Any] ?? [:]
        return (page, json)
    }

    static func errorCode(_ json: [String: Any]) -> String? {
        ((json["errors"] as? [[String: Any]])?.first?["code"]) as? String
    }

    static func published(_ site: TestSite) -> QueryBuilder<Article> {
        Article.query(on: site.app.db).filter(\.$status == .published).filter(\.$publishedAt <= Date())
    }

    @Test("a request without a key, or with an unknown or revoked one, is refused in JSON", arguments: [TestDatabase.sqlite])
    func keysAreRequired(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (missing, missingJSON) = try await Self.get(site, "/articles", key: nil)
            #expect(missing.status == .unauthorized)
            #expect(Self.errorCode(missingJSON) == "missing_key")
            #expect(missing.headers.first(name: .contentType) == "application/json; charset=utf-8")
            #expect(missing.headers.first(name: .accessControlAllowOrigin) == "*")
            let (unknown, unknownJSON) = try await Self.get(site, "/articles", key: "mhk_not-a-key")
            #expect(unknown.status == .unauthorized)
            #expect(Self.errorCode(unknownJSON) == "invalid_key")

            let paidKey = try await Self.key(site, .paid)
            let inQuery = try await site.get(Self.root + "/articles?key=\(paidKey)")
            #expect(inQuery.status == .unauthorized)
            #expect(inQuery.body.contains("key_in_query"))

            let (integration, key) = try await APIKeys.create(name: "Widget", access: .public, by: nil, on: site.app.db)
            #expect(try await Self.get(site, "/articles", key: key).0.status == .ok)
            #expect(try await site.get(Self.root + "/editions?key=\(key)").status == .ok)
            try await APIKeys.revoke(integration, on: site.app.db)
            let keys = APIKeys(memory: 0)
            #expect(try await keys.integration(forKey: key, on: site.app.db) == nil)
        }
    }

    @Test("articles are listed newest first, page by page, with the pagination named", arguments: TestDatabase.available)
    func listing(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let key = try await Self.key(site)
            let expected = try await Self.published(site).sort(\.$publishedAt, .descending).sort(\.$id, .descending).all()
            let (page, json) = try await Self.get(site, "/articles?limit=5&page=2", key: key)
            #expect(page.status == .ok)
            let articles = try #require(json["articles"] as? [[String: Any]])
            #expect(articles.map { $0["id"] as? String } == expected[5..<10].map { $0.id!.uuidString.lowercased() })
            let pagination = try #require((json["meta"] as? [String: Any])?["pagination"] as? [String: Any])
            #expect(pagination["page"] as? Int == 2)
            #expect(pagination["limit"] as? Int == 5)
            #expect(pagination["total"] as? Int == expected.count)
            #expect(pagination["pages"] as? Int == (expected.count + 4) / 5)
            #expect(pagination["next"] as? Int == 3)
            #expect(pagination["prev"] as? Int == 1)
            let first = try #require(articles.first)
            #expect(first["url"] as? String == site.settings.publicURL + (expected[5].edition == "en" ? "" : "/\(expected[5].edition)") + "/articles/\(expected[5].slug)")
            #expect(first["published_at"] as? String == EditionDates.iso(expected[5].publishedAt!))
        }
    }

    @Test("filters by edition, kind, topic, author, visibility and date narrow the list", arguments: TestDatabase.available)
    func filters(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let key = try await Self.key(site)
            let all = try await Self.published(site).with(\.$topicLinks) { $0.with(\.$topic) }.with(\.$authorCredits) { $0.with(\.$author) }.all()
            let cases: [(String, (Article) -> Bool)] = [
                ("edition=ar&kind=analysis", { $0.edition == "ar" && $0.kind == .analysis }),
                ("topic=iraq", { $0.topics.contains { $0.slug == "iraq" } }),
                ("visibility=paid", { $0.visibility == .paid }),
                ("since=2026-11-20", { $0.publishedAt! >= Date(timeIntervalSince1970: 1_795_132_800) }),
            ]
            let someAuthor = try #require(all.first?.bylineAuthors.first?.slug)
            for (query, matches) in cases + [("author=\(someAuthor)", { $0.bylineAuthors.contains { $0.slug == someAuthor } })] {
                let (page, json) = try await Self.get(site, "/articles?limit=100&fields=id&\(query)", key: key)
                #expect(page.status == .ok, "\(query)")
                let ids = Set((json["articles"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
                let expected = Set(all.filter(matches).map { $0.id!.uuidString.lowercased() })
                #expect(!expected.isEmpty, "\(query) matches nothing in the demo")
                #expect(ids == expected, "\(query)")
            }
            let (_, none) = try await Self.get(site, "/articles?topic=no-such-topic", key: key)
            #expect((none["articles"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("gated bodies follow the key's access: previews for a public key, members' text for a members key, all for a paid key", arguments: TestDatabase.available)
    func accessFollowsTheKey(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let members = try await DemoArticles.first(on: site, edition: "en", visibility: .members)
            let paid = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let expectations: [(APIIntegration.Access, Article, Bool)] = [
                (.public, members, false), (.public, paid, false), (.members, members, true), (.members, paid, false), (.paid, paid, true),
            ]
            for (access, article, whole) in expectations {
                let key = try await Self.key(site, access)
                let (_, json) = try await Self.get(site, "/articles/\(article.id!.uuidString)", key: key)
                let resource = try #require((json["articles"] as? [[String: Any]])?.first)
                let text = HTML.text(of: resource["html"] as? String ?? "")
                let sentences = DemoArticles.gatedSentences(of: article)
                #expect(!sentences.isEmpty)
                #expect(resource["access"] as? String == (whole ? "full" : "preview"), "\(access) \(article.visibility)")
                if whole {
                    #expect(sentences.allSatisfy { text.contains($0) }, "\(access) \(article.visibility)")
                } else {
                    #expect(!sentences.contains { text.contains($0) }, "\(access) \(article.visibility)")
                }
            }
        }
    }

    @Test("q searches as the site does: by a topic's other names, never by words the key's readers may not read, narrowed by the other filters", arguments: TestDatabase.available)
    func search(database: TestDatabase) async throws {
        try await withSite(on: database, configure: SearchTests.allEditions) { site in
            let slugs = { (json: [String: Any]) in ((json["articles"] as? [[String: Any]]) ?? []).compactMap { $0["slug"] as? String } }
            let publicKey = try await Self.key(site, .public)
            let membersKey = try await Self.key(site, .members)

            // کرکوک appears only after the paywall of a members' analysis.
            let gated = "q=%DA%A9%D8%B1%DA%A9%D9%88%DA%A9&edition=fa"
            let (_, anonymous) = try await Self.get(site, "/articles?\(gated)", key: publicKey)
            #expect(slugs(anonymous).isEmpty)
            let (_, member) = try await Self.get(site, "/articles?\(gated)&fields=slug", key: membersKey)
            #expect(slugs(member) == ["soleimani-legacy-iran-allies-in-iraq-fa"])
            let pagination = try #require((member["meta"] as? [String: Any])?["pagination"] as? [String: Any])
            #expect(pagination["total"] as? Int == 1)
            #expect(pagination["more"] as? Bool == false)

            let (_, byAlias) = try await Self.get(site, "/articles?q=Suleimani&edition=en", key: publicKey)
            #expect(slugs(byAlias).contains("after-al-qaim-iraq-syria-border-faces-a-harder-winter"))

            let (_, paidOnly) = try await Self.get(site, "/articles?q=iraq&visibility=paid&fields=visibility", key: publicKey)
            #expect(!((paidOnly["articles"] as? [[String: Any]]) ?? []).isEmpty)
            #expect(((paidOnly["articles"] as? [[String: Any]]) ?? []).allSatisfy { $0["visibility"] as? String == "paid" })
            let (_, oneArticle) = try await Self.get(site, "/articles?q=Suleimani&slug=after-al-qaim-iraq-syria-border-faces-a-harder-winter", key: publicKey)
            #expect(slugs(oneArticle) == ["after-al-qaim-iraq-syria-border-faces-a-harder-winter"])
            let (tooLong, _) = try await Self.get(site, "/articles?q=\(String(repeating: "a", count: 201))", key: publicKey)
            #expect(tooLong.status == .badRequest)
        }
    }

    @Test("field selection returns only the fields asked for", arguments: [TestDatabase.sqlite])
    func fieldSelection(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let key = try await Self.key(site)
            let (_, json) = try await Self.get(site, "/articles?fields=id,title,url&limit=3", key: key)
            let articles = try #require(json["articles"] as? [[String: Any]])
            #expect(articles.count == 3)
            #expect(articles.allSatisfy { Set($0.keys) == ["id", "title", "url"] })
            let (full, fullJSON) = try await Self.get(site, "/articles?limit=1", key: key)
            #expect(full.status == .ok)
            #expect(Set(((fullJSON["articles"] as? [[String: Any]])?.first ?? [:]).keys) == Set(ContentAPI.articleFields))
        }
    }

    @Test("hostile query strings get a 400 that says what is wrong, never a 500", arguments: [TestDatabase.sqlite])
    func hostileQueries(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let key = try await Self.key(site)
            let queries = [
                "page=0", "page=99999999999999999999", "page=-3", "limit=1000", "limit=two", "since=yesterday", "since=2026-13-45",
                "kind=opinion", "edition=EN", "kind=", "visibility=secret", "topic=Not%20A%20Slug", "fields=id,password", "sort=title",
                "page=1&page=2", "%zz=1", "limit=%ff",
            ]
            for query in queries {
                let (page, json) = try await Self.get(site, "/articles?\(query)", key: key)
                #expect(page.status == .badRequest, "\(query) answered \(page.status.code)")
                #expect(Self.errorCode(json) == "bad_parameter", "\(query)")
                let message = ((json["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
                #expect(message.count > 10, "\(query): \(message)")
            }
            for path in ["/articles/not-a-uuid", "/articles/\(UUID().uuidString)", "/authors/no-such-author", "/topics/NOPE", "/nothing"] {
                let (page, json) = try await Self.get(site, path, key: key)
                #expect(page.status == .notFound, "\(path)")
                #expect(Self.errorCode(json) == "not_found", "\(path)")
            }
        }
    }

    @Test("a method an address does not take is a 405 naming the ones it does", arguments: [TestDatabase.sqlite])
    func wrongMethod(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            for (method, path, allowed) in [
                (HTTPMethod.DELETE, Self.root + "/articles", "GET, HEAD"), (.POST, Self.root + "/articles/\(UUID())", "GET, HEAD"),
                (.PATCH, "/api/admin/v1/articles", "POST"), (.GET, "/api/admin/v1/images", "POST"),
            ] {
                let response = try await site.app.client.send(method, to: URI(string: site.baseURL + path))
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers.first(name: .allow) == allowed, "\(method) \(path)")
            }
            #expect(try await site.get(Self.root + "/nothing/here").status == .notFound)
        }
    }

    @Test("an unchanged answer is a 304 for a client holding its ETag", arguments: [TestDatabase.sqlite])
    func conditionalGet(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let key = try await Self.key(site)
            let (first, _) = try await Self.get(site, "/articles?limit=3", key: key)
            let etag = try #require(first.headers.first(name: .eTag))
            let (again, _) = try await Self.get(site, "/articles?limit=3", key: key, headers: [("If-None-Match", etag)])
            #expect(again.status == .notModified)
            let (other, _) = try await Self.get(site, "/articles?limit=4", key: key, headers: [("If-None-Match", etag)])
            #expect(other.status == .ok)
        }
    }

    @Test("a key over its rate limit is told when to come back", arguments: [TestDatabase.sqlite])
    func rateLimit(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.apiRequestsPerMinute = 3 }) { site in
            let key = try await Self.key(site)
            let other = try await Self.key(site, .members)
            // The limits count per clock minute: start early in one, so that all of this falls in it.
            let secondsLeft = 60 - Int(Date().timeIntervalSince1970) % 60
            if secondsLeft < 20 { try await Task.sleep(for: .seconds(secondsLeft)) }
            for _ in 0..<3 { #expect(try await Self.get(site, "/editions", key: key).0.status == .ok) }
            let (limited, json) = try await Self.get(site, "/editions", key: key)
            #expect(limited.status == .tooManyRequests)
            #expect(Self.errorCode(json) == "rate_limited")
            let retryAfter = try #require(limited.headers.first(name: .retryAfter).flatMap(Int.init))
            #expect((1...60).contains(retryAfter))
            #expect(try await Self.get(site, "/editions", key: other).0.status == .ok)

            for attempt in 1...ContentAPIController.failedKeysPerMinute + 1 {
                let status = try await Self.get(site, "/editions", key: "mhk_guess-\(attempt)").0.status
                #expect(status == (attempt <= ContentAPIController.failedKeysPerMinute ? .unauthorized : .tooManyRequests))
            }
        }
    }

    @Test("topics and authors without a published article are not listed", arguments: [TestDatabase.sqlite])
    func unpublishedTopicsStayHidden(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let embargoed = Topic(slug: "embargoed-summit", kind: .theme)
            try await embargoed.create(on: site.app.db)
            let key = try await Self.key(site)
            let (_, topics) = try await Self.get(site, "/topics?limit=100", key: key)
            let slugs = ((topics["topics"] as? [[String: Any]]) ?? []).compactMap { $0["slug"] as? String }
            #expect(slugs.contains("iraq"))
            #expect(!slugs.contains("embargoed-summit"))
            #expect(try await Self.get(site, "/topics/embargoed-summit", key: key).0.status == .notFound)
        }
    }

    @Test("browsers on other sites may read it: CORS preflight and headers", arguments: [TestDatabase.sqlite])
    func cors(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let response = try await site.app.client.send(.OPTIONS, headers: [
                "Origin": "https://partner.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
            ], to: URI(string: site.baseURL + Self.root + "/articles"))
            #expect(response.status == .noContent)
            #expect(response.headers.first(name: .accessControlAllowOrigin) == "*")
            #expect(response.headers.first(name: .accessControlAllowHeaders)?.contains("Authorization") == true)
            let (page, _) = try await Self.get(site, "/articles?limit=1", key: try await Self.key(site), headers: [("Origin", "https://partner.example")])
            #expect(page.headers.first(name: .accessControlAllowOrigin) == "*")
            #expect(page.headers.first(name: .accessControlAllowCredentials) == nil)
        }
    }

    @Test("authors, topics and editions are listed and found by slug", arguments: [TestDatabase.sqlite])
    func authorsTopicsEditions(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let key = try await Self.key(site)
            let (_, authors) = try await Self.get(site, "/authors?limit=100", key: key)
            let authorRows = try #require(authors["authors"] as? [[String: Any]])
            // Every author with a byline in a published article of the site's editions.
            let credited = try await ArticleAuthor.query(on: site.app.db).join(Article.self, on: \ArticleAuthor.$article.$id == \Article.$id)
                .filter(Article.self, \.$status == .published).all().map(\.$author.id)
            #expect(authorRows.count == Set(credited).count)
            let slug = try #require(authorRows.first?["slug"] as? String)
            let (one, oneJSON) = try await Self.get(site, "/authors/\(slug)", key: key)
            #expect(one.status == .ok)
            #expect(((oneJSON["authors"] as? [[String: Any]])?.first?["url"] as? String) == site.settings.publicURL + "/authors/\(slug)")

            let (_, topics) = try await Self.get(site, "/topics?kind=country&limit=100", key: key)
            let topicRows = try #require(topics["topics"] as? [[String: Any]])
            #expect(!topicRows.isEmpty && topicRows.allSatisfy { $0["kind"] as? String == "country" })
            let (_, iraq) = try await Self.get(site, "/topics/iraq", key: key)
            let names = ((iraq["topics"] as? [[String: Any]])?.first?["names"] as? [String: String]) ?? [:]
            #expect(names["en"] == "Iraq")
            #expect(names["ar"] == "العراق")

            let (_, editions) = try await Self.get(site, "/editions", key: key)
            let codes = (editions["editions"] as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(codes == ["en", "ar"])
        }
    }

    @Test("an admin makes a key, sees it once and revokes it; an editor may not", arguments: [TestDatabase.sqlite])
    func adminManagesKeys(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let (editor, _) = try await Newsroom.signedIn(site, as: .editor)
            #expect(try await editor.get("/admin/integrations").status == .forbidden)

            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let form = try await admin.get("/admin/integrations")
            #expect(form.status == .ok)
            let made = try await admin.submit(form, action: "/admin/integrations", ["name": "Partner site", "access": "members"])
            #expect(made.status == .ok)
            let key = try #require(HTML.attributeValues("value", of: "input id=\"new-key\"", in: made.body).first)
            #expect(key.hasPrefix("mhk_"))
            #expect(!(try await admin.get("/admin/integrations").body.contains(key)))
            #expect(try await Self.get(site, "/articles?limit=1", key: key).0.status == .ok)

            let revoke = try #require(HTML.attributeValues("action", of: "form", in: made.body).first { $0.hasSuffix("/revoke") })
            let revoked = try await admin.submit(try await admin.get("/admin/integrations"), action: revoke, [:])
            #expect(revoked.status == .seeOther)
            #expect(try await Self.get(site, "/articles?limit=1", key: key).0.status == .unauthorized)
            let audit = try await AuditEvent.query(on: site.app.db).all().map(\.action)
            #expect(audit.contains("created an API key") && audit.contains("revoked an API key"))
        }
    }
}
