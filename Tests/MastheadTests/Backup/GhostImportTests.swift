import Fluent
import Foundation
import Testing
@testable import Masthead

/// `masthead import ghost`, on an export shaped as Ghost 5 writes one: posts in HTML, Lexical
/// and Mobiledoc, public and internal tags, co-authors, and free, paid and comped members with
/// their Stripe subscription and newsletters.
@Suite("Importing from Ghost", .serialized)
struct GhostImportTests {
    /// Paragraphs, the second a heading, and Ghost's paywall card after `paywallAfter` of them.
    static func lexical(_ paragraphs: [String], paywallAfter: Int? = nil) -> String {
        var children = paragraphs.enumerated().map { index, text -> [String: Any] in
            index == 1
                ? ["type": "heading", "tag": "h2", "children": [["type": "text", "text": text, "format": 0]]]
                : ["type": "paragraph", "children": [["type": "text", "text": "Budget ", "format": 0], ["type": "text", "text": text, "format": 1]]]
        }
        if let paywallAfter { children.insert(["type": "paywall"], at: paywallAfter) }
        let data = try! JSONSerialization.data(withJSONObject: ["root": ["type": "root", "children": children]])
        return String(decoding: data, as: UTF8.self)
    }

    static let mobiledoc = #"{"version":"0.3.1","atoms":[],"cards":[["hr",{}]],"markups":[["strong"],["a",["href","https://example.org/kirkuk"]]],"sections":[[1,"p",[[0,[0],1,"Kirkuk"],[0,[],0," is "],[0,[1],1,"contested"],[0,[],0,"."]]],[10,0],[3,"ul",[[[0,[],0,"Oil"]],[[0,[],0,"Land"]]]]]}"#

    /// A Ghost export and a copy of its `content/images` beside it.
    static func oldSite() throws -> (file: String, images: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-ghost-\(UUID().uuidString)").path
        let images = folder + "/images"
        try FileManager.default.createDirectory(atPath: images + "/2026/11", withIntermediateDirectories: true)
        let image = try Data(contentsOf: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png"))
        try image.write(to: URL(fileURLWithPath: images + "/2026/11/dam-at-dusk.png"))
        try image.write(to: URL(fileURLWithPath: images + "/2026/11/pumping-station.png"))
        let post = { (id: String, slug: String, fields: [String: Any]) -> [String: Any] in
            ["id": id, "uuid": UUID().uuidString, "slug": slug, "type": "post", "status": "published", "visibility": "public",
             "published_at": "2026-11-20T06:30:00.000Z", "created_at": "2026-11-19T10:00:00.000Z"].merging(fields) { $1 }
        }
        let data: [String: Any] = [
            "posts": [
                post("p1", "tigris-releases", [
                    "title": "Turkey pledges higher Tigris releases", "custom_excerpt": "Ankara promised more water.",
                    "feature_image": "__GHOST_URL__/content/images/2026/11/dam-at-dusk.png",
                    "html": #"<p>Turkey agreed to <strong>raise releases</strong>.</p><h2>Why it matters</h2><figure class="kg-card kg-image-card kg-card-hascaption"><img src="__GHOST_URL__/content/images/2026/11/pumping-station.png" class="kg-image" alt="A pumping station"><figcaption>The Basra pumping station.</figcaption></figure>"#,
                    "mobiledoc": NSNull(),
                ]),
                post("p2", "inside-the-budget-talks", [
                    "title": "Inside the budget talks", "visibility": "paid", "html": NSNull(),
                    "lexical": lexical(["talks opened.", "What was on the table", "deadlines slipped.", "ministers met.", "a deal is near."], paywallAfter: 3),
                ]),
                post("p3", "memo-on-kirkuk", ["title": "Memo: Kirkuk", "visibility": "members", "mobiledoc": mobiledoc]),
                post("p4", "about", ["title": "About", "type": "page", "html": "<p>We are a newsroom.</p>"]),
                post("p5", "draft-notes", ["title": "Draft notes", "status": "draft", "published_at": NSNull(), "html": "<p>Later.</p>"]),
            ],
            "posts_meta": [["post_id": "p1", "feature_image_alt": "The Ilisu dam", "feature_image_caption": "<span>The Ilisu dam at dusk.</span>"]],
            "users": [
                ["id": "u1", "name": "Layla Haddad", "slug": "layla", "email": "layla@old.example", "bio": "Covers water."],
                ["id": "u2", "name": "Omar Kurdi", "slug": "omar", "email": "omar@old.example"],
            ],
            "posts_authors": [
                ["post_id": "p1", "author_id": "u1", "sort_order": 0], ["post_id": "p1", "author_id": "u2", "sort_order": 1],
                ["post_id": "p2", "author_id": "u1", "sort_order": 0], ["post_id": "p3", "author_id": "u2", "sort_order": 0],
                ["post_id": "p5", "author_id": "u1", "sort_order": 0],
            ],
            "tags": [
                ["id": "t1", "name": "Iraq", "slug": "iraq", "description": "Coverage of Iraq", "visibility": "public"],
                ["id": "t2", "name": "#featured", "slug": "hash-featured", "visibility": "internal"],
            ],
            "posts_tags": [["post_id": "p1", "tag_id": "t1", "sort_order": 0], ["post_id": "p1", "tag_id": "t2", "sort_order": 1], ["post_id": "p2", "tag_id": "t1", "sort_order": 0]],
            "members": [
                ["id": "m1", "email": "free@example.com", "name": "Free Reader", "status": "free"],
                ["id": "m2", "email": "Paid@Example.com", "name": "Paying Reader", "status": "paid"],
                ["id": "m3", "email": "comped@example.com", "name": "Press Friend", "status": "comped"],
                ["id": "m4", "email": "lost@example.com", "name": "", "status": "paid"],
                ["id": "m5", "email": "bad@example.com\r\nBcc: everyone@example.org", "name": "Header", "status": "free"],
                ["id": "m6", "email": "forever@example.com", "name": "Claims Forever", "status": "paid"],
            ],
            "labels": [["id": "l1", "name": "VIP", "slug": "vip"]],
            "members_labels": [["member_id": "m2", "label_id": "l1"]],
            "newsletters": [["id": "n1", "name": "Daily Briefing", "slug": "daily-briefing", "sender_email": "briefing@old.example", "status": "active", "subscribe_on_signup": true, "sort_order": 0]],
            "members_newsletters": [["member_id": "m1", "newsletter_id": "n1"], ["member_id": "m2", "newsletter_id": "n1"]],
            "members_stripe_customers": [["member_id": "m2", "customer_id": "cus_123"], ["member_id": "m6", "customer_id": "cus_999"]],
            "members_stripe_customers_subscriptions": [[
                "customer_id": "cus_123", "subscription_id": "sub_123", "status": "active", "current_period_end": "2027-11-20T00:00:00.000Z",
                "start_date": "2026-11-20T00:00:00.000Z", "cancel_at_period_end": false, "plan_interval": "year", "plan_amount": 10000, "plan_currency": "usd",
            ], [
                "customer_id": "cus_999", "subscription_id": "sub_999", "status": "active", "current_period_end": "9999-12-31T00:00:00.000Z",
                "plan_interval": "month", "plan_amount": 1000, "plan_currency": "usd",
            ]],
        ]
        let document: [String: Any] = ["db": [["meta": ["exported_on": 1_764_000_000_000, "version": "5.101.0"], "data": data]]]
        let file = folder + "/ghost-export.json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: file))
        return (file, images)
    }

    @Test("a Ghost export imports posts in every format, authors, tags and members with their access and newsletters; a rerun creates nothing", arguments: TestDatabase.available)
    func importsEverything(database: TestDatabase) async throws {
        let old = try Self.oldSite()
        try await withSite(on: database, withDemo: false) { site in
            let environment = BackupTests.environment(site.settings).merging(["MASTHEAD_MAIL_FROM": "news@old.example"]) { $1 }
            let result = try await MastheadProcess.run(["import", "ghost", old.file, "--media-dir", old.images], environment: environment)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("Imported 4 articles (1 drafts), 1 pages, 2 authors, 1 topics, 2 images and 5 redirects from old addresses; 5 members (2 paying through Stripe, 1 complimentary), 1 newsletters and 2 newsletter subscriptions"), "\(result.standardOutput)")
            #expect(HTML.text(of: try await site.get("/pages/about").body).contains("We are a newsroom."), "a Ghost page becomes a standing page")
            #expect(result.standardOutput.contains("member lost@example.com: paid on Ghost, but the export has no Stripe subscription"))
            #expect(result.standardOutput.contains("member paid@example.com: labels VIP not kept"))
            #expect(result.standardOutput.contains("not an address, or one the export has twice"))
            #expect(result.standardOutput.contains("member forever@example.com: the export says they paid until 9999-12-31"))

            let page = try await site.get("/articles/tigris-releases")
            #expect(page.status == .ok)
            let text = HTML.text(of: page.body)
            for expected in ["Turkey pledges higher Tigris releases", "Ankara promised more water.", "Layla Haddad", "Omar Kurdi", "Why it matters",
                             "The Basra pumping station.", "The Ilisu dam at dusk.", "Iraq"] {
                #expect(text.contains(expected), "the article lacks “\(expected)”")
            }
            #expect(!text.contains("#featured") && !text.contains("hash-featured"))
            let paid = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "inside-the-budget-talks").with(\.$text).first())
            #expect(paid.visibility == .paid)
            #expect(try paid.loadedMarkdown.contains("Budget **talks opened.**") && paid.loadedMarkdown.contains("## What was on the table"))
            let teaser = HTML.text(of: try await site.get("/articles/inside-the-budget-talks").body)
            #expect(teaser.contains("deadlines slipped.") && !teaser.contains("ministers met."), "the preview ends where Ghost's paywall card was")
            let memo = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "memo-on-kirkuk").with(\.$text).first())
            #expect(memo.visibility == .members)
            #expect(try memo.loadedMarkdown == "**Kirkuk** is [contested](https://example.org/kirkuk).\n\n---\n\n- Oil\n- Land")

            let paying = try #require(try await Member.query(on: site.app.db).filter(\.$email == "paid@example.com").first())
            #expect(paying.paidUntil.map { $0 > Date() } == true)
            let subscription = try #require(try await Subscription.query(on: site.app.db).filter(\.$providerCustomerID == "cus_123").first())
            #expect(subscription.providerCustomerID == "cus_123" && subscription.providerSubscriptionID == "sub_123" && subscription.status == .active)
            let forever = try #require(try await Member.query(on: site.app.db).filter(\.$email == "forever@example.com").first())
            #expect(forever.paidUntil.map { $0 > Date() && $0 < Date().addingTimeInterval(60 * 86_400) } == true, "a month's subscription, whatever the file claims")
            let comped = try #require(try await Member.query(on: site.app.db).filter(\.$email == "comped@example.com").first())
            #expect(comped.paidUntil.map { $0 > Date().addingTimeInterval(50 * 365 * 86_400) } == true)
            let free = try #require(try await Member.query(on: site.app.db).filter(\.$email == "free@example.com").first())
            #expect(free.paidUntil == nil)
            let briefing = try #require(try await Newsletter.query(on: site.app.db).filter(\.$slug == "daily-briefing").first())
            #expect(briefing.senderEmail == "briefing@old.example" && briefing.forNewMembers)
            #expect(try await NewsletterSubscription.query(on: site.app.db).filter(\.$status == .active).count() == 2)

            let moved = try await site.get("/tigris-releases/")
            #expect(moved.status == .movedPermanently && moved.headers.first(name: .location) == "/articles/tigris-releases")

            let again = try await MastheadProcess.run(["import", "ghost", old.file, "--media-dir", old.images], environment: environment)
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardOutput.contains("Nothing new") && again.standardOutput.contains("Created nothing."), "\(again.standardOutput)")
            #expect(try await Member.query(on: site.app.db).count() == 5)
            #expect(try await Article.query(on: site.app.db).count() == 4)
        }
    }

    @Test("a file that is not a Ghost export is refused in one line and nothing is written")
    func foreignFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-ghost-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await withSite(on: .sqlite, withDemo: false) { site in
            for (name, content, reason) in [
                ("not JSON", "{\"db\": [", "is not valid JSON"),
                ("another export", #"{"format": "masthead-export", "version": 2}"#, "is not a Ghost export"),
            ] {
                let file = folder + "/\(UUID().uuidString).json"
                try content.write(toFile: file, atomically: true, encoding: .utf8)
                let result = try await MastheadProcess.run(["import", "ghost", file], environment: BackupTests.environment(site.settings))
                #expect(result.status == 1, "\(name)")
                #expect(result.standardError.hasPrefix("masthead: ") && result.standardError.contains(reason), "\(name): \(result.standardError)")
            }
            #expect(try await Member.query(on: site.app.db).count() == 0)
        }
    }
}
