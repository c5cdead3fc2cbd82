import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

/// `masthead import substack`, on an export shaped as Substack writes one: `posts.csv` with each
/// post's HTML in `posts/`, the full email list and the paid subscribers' export beside it.
@Suite("Importing from Substack", .serialized)
struct SubstackImportTests {
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static let cdnImage = "https://substackcdn.com/image/fetch/w_1456,c_limit,f_auto,q_auto:good/https%3A%2F%2Fsubstack-post-media.s3.amazonaws.com%2Fpublic%2Fimages%2Fdam_1024x683.png"

    static let posts: [(id: String, html: String)] = [
        ("150001.tigris-deal", #"<p>Turkey agreed to <strong>raise releases</strong>.</p><div class="captioned-image-container"><figure><a class="image-link image2" href="\#(cdnImage)"><div class="image2-inset"><picture><source type="image/webp" srcset="https://substackcdn.com/image/fetch/w_424,c_limit,f_webp/https%3A%2F%2Fsubstack-post-media.s3.amazonaws.com%2Fpublic%2Fimages%2Fdam_1024x683.png 424w"><img src="\#(cdnImage)" alt="The Ilisu dam"></picture></div></a><figcaption class="image-caption">The Ilisu dam at dusk.</figcaption></figure></div><p class="button-wrapper" data-attrs="{}"><a class="button primary" href="https://oldpub.substack.com/subscribe?"><span>Subscribe now</span></a></p><div class="subscription-widget-wrap"><div class="subscription-widget show-subscribe"><div class="preamble"><p>Thanks for reading! Subscribe for free.</p></div><form class="subscription-widget-subscribe"><input type="email" name="email"></form></div></div>"#),
        ("150002.inside-the-budget-talks", #"<p>The talks opened on Monday.</p><p>Ministers met twice.</p><div class="paywall-jump" data-component-name="PaywallToDOM"></div><p>A deal is near, say three officials.</p><p>The sticking point is oil revenue.</p>"#),
        ("150003.memo-kirkuk", "<p>Kirkuk is contested.</p>"),
        ("150004.episode-one", "<p>In this episode we discuss water.</p>"),
        ("150005.later", "<p>Later.</p>"),
        ("150006.open-thread", "<p>Talk among yourselves.</p>"),
        ("150007.about", "<p>We are a newsroom.</p>"),
        ("150008.members-corner", "<p>For paying members.</p>"),
    ]

    /// A Substack export unpacked into a folder, and a folder with a copy of its images.
    static func oldPublication(postsCSV: String? = nil) throws -> (folder: String, images: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-substack-\(UUID().uuidString)").path
        let folder = root + "/export", images = root + "/images"
        try FileManager.default.createDirectory(atPath: folder + "/posts", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try Data(contentsOf: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png"))
            .write(to: URL(fileURLWithPath: images + "/dam_1024x683.png"))
        let csv = postsCSV ?? [
            "post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,podcast_url",
            #"150001.tigris-deal,2026-11-20T06:30:00.000Z,true,2026-11-20T06:31:00.000Z,,newsletter,everyone,Turkey pledges higher Tigris releases,"Ankara promised more water, ""at last""","#,
            "150002.inside-the-budget-talks,2026-11-21T08:00:00.000Z,true,,,newsletter,only_paid,Inside the budget talks,What was on the table,",
            "150003.memo-kirkuk,2026-11-22T09:00:00.000Z,true,,,newsletter,only_free,Memo: Kirkuk,,",
            "150004.episode-one,2026-11-23T10:00:00.000Z,true,,,podcast,everyone,Episode one,,https://api.substack.com/feed/podcast/150004/episode.mp3",
            "150005.later,,false,,,newsletter,everyone,Notes for later,,",
            "150006.open-thread,2026-11-24T10:00:00.000Z,true,,,thread,everyone,Open thread,,",
            "150007.about,2026-11-01T10:00:00.000Z,true,,,page,everyone,About us,,",
            "150008.members-corner,2026-11-02T10:00:00.000Z,true,,,page,only_paid,Members' corner,,",
        ].map { $0 + "\r\n" }.joined()
        try csv.write(toFile: folder + "/posts.csv", atomically: true, encoding: .utf8)
        for post in posts {
            try post.html.write(toFile: folder + "/posts/\(post.id).html", atomically: true, encoding: .utf8)
        }
        try "email,opened_at\nfree@example.com,2026-11-20T07:00:00.000Z\n".write(toFile: folder + "/posts/150001.tigris-deal.opens.csv", atomically: true, encoding: .utf8)
        let now = Date()
        let inAYear = iso(now.addingTimeInterval(200 * 86_400))
        try """
        email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at
        free@example.com,false,,free,false,2024-01-01T00:00:00.000Z,
        Paid@Example.com,true,\(inAYear),yearly,false,2024-02-01T00:00:00.000Z,2024-02-01T00:00:00.000Z
        nocard@example.com,true,\(iso(now.addingTimeInterval(40 * 86_400))),monthly,false,2024-03-01T00:00:00.000Z,2024-03-01T00:00:00.000Z
        lapsed@example.com,false,2025-01-01T00:00:00.000Z,yearly,false,2023-01-01T00:00:00.000Z,2023-01-01T00:00:00.000Z
        quiet@example.com,false,,free,true,2024-05-01T00:00:00.000Z,
        someone@deletion-request.substack.com,false,,free,false,2024-06-01T00:00:00.000Z,

        """.write(toFile: folder + "/email_list.oldpub.csv", atomically: true, encoding: .utf8)
        try """
        email,expiry,email_disabled,stripe_connected_customer_id,type
        paid@example.com,\(inAYear),false,cus_paid,paid
        comp@example.com,2118-09-11T12:14:56.557Z,false,,comp
        gift@example.com,\(iso(now.addingTimeInterval(90 * 86_400))),false,,gift

        """.write(toFile: folder + "/subscribers.csv", atomically: true, encoding: .utf8)
        return (folder, images)
    }

    /// The export as a ZIP made by Python's zipfile (deflated, inside a top folder, as a
    /// downloaded and re-packed export often is); `damaging` flips a byte of posts.csv's data.
    static func zipped(_ folder: String, damaging: Bool = false) async throws -> String {
        let zip = folder + ".zip"
        let script = """
        import os, sys, zipfile
        folder, target, damage = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for base, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(base, name)
                    archive.write(path, "oldpub-export/" + os.path.relpath(path, folder))
        if damage:
            with zipfile.ZipFile(target) as archive:
                info = archive.getinfo("oldpub-export/posts.csv")
            with open(target, "r+b") as handle:
                handle.seek(info.header_offset + 26)
                lengths = handle.read(4)
                start = info.header_offset + 30 + int.from_bytes(lengths[:2], "little") + int.from_bytes(lengths[2:], "little")
                handle.seek(start + 10)
                byte = handle.read(1)
                handle.seek(start + 10)
                handle.write(bytes([byte[0] ^ 0xFF]))
        """
        let result = try await ExternalTool.run("python3", ["-c", script, folder, zip, damaging ? "1" : "0"])
        #expect(result.status == 0, "\(result.output)")
        return zip
    }

    static func stripeEnvironment(_ stripe: LocalStripe) -> [String: String] {
        ["MASTHEAD_STRIPE_SECRET_KEY": LocalStripe.secretKey, "MASTHEAD_STRIPE_WEBHOOK_SECRET": LocalStripe.webhookSecret, "MASTHEAD_STRIPE_API_BASE": stripe.baseURL]
    }

    private func withStripe(_ body: (LocalStripe) async throws -> Void) async throws {
        let stripe = try await LocalStripe.start()
        do {
            try await body(stripe)
        } catch {
            await stripe.stop()
            throw error
        }
        await stripe.stop()
    }

    @Test("a Substack export imports posts with their audience and paywall, and readers with their access and newsletter; a rerun creates nothing", arguments: TestDatabase.available)
    func importsEverything(database: TestDatabase) async throws {
        let old = try Self.oldPublication()
        try await withStripe { stripe in
            stripe.setSubscription(StripeEvents.subscription(id: "sub_paid", customer: "cus_paid", memberID: nil, status: "active", periodEnd: Date().addingTimeInterval(300 * 86_400)))
            stripe.setCustomer("cus_paid", email: "PAID@example.com")
            try await withSite(on: database, withDemo: false) { site in
                let environment = BackupTests.environment(site.settings).merging(Self.stripeEnvironment(stripe)) { $1 }
                let arguments = ["import", "substack", old.folder, "--site-url", "https://oldpub.substack.com/", "--author", "Layla Haddad", "--media-dir", old.images]
                let result = try await MastheadProcess.run(arguments, environment: environment)
                #expect(result.status == 0, "\(result.standardError)")
                #expect(result.standardOutput.contains("Imported 5 articles (1 drafts), 2 pages, 1 authors, 0 topics, 1 images and 7 redirects from old addresses; 7 members (1 paying through Stripe, 2 with complimentary access), 6 of them subscribed to the newsletter “newsletter” (new)"), "\(result.standardOutput)")
                #expect(result.standardOutput.contains("post “Open thread”: a Substack thread, not an article"))
                let about = try await site.get("/p/about")
                #expect(about.status == .movedPermanently && about.headers.first(name: .location) == "/pages/about", "a Substack page becomes a standing page")
                #expect(result.standardOutput.contains("page “Members' corner” (id 150008): for paying members only on the old site; standing pages are for every reader, so it was imported unpublished"))
                #expect(try await site.get("/pages/members-corner").status == .notFound)
                #expect(result.standardOutput.contains("reader someone@deletion-request.substack.com: asked Substack to delete their data"))
                #expect(result.standardOutput.contains("reader nocard@example.com: paid on Substack, but the export names no Stripe customer for them; imported as a free member"))
                #expect(result.standardOutput.contains("reader lapsed@example.com: paid on Substack until 2025-01-01"))
                #expect(stripe.requests.contains { $0.method == "GET" && $0.path == "/v1/subscriptions" && $0.form["customer"] == "cus_paid" })

                let page = try await site.get("/articles/tigris-deal")
                #expect(page.status == .ok)
                let text = HTML.text(of: page.body)
                for expected in ["Turkey pledges higher Tigris releases", "Ankara promised more water, \"at last\"", "Layla Haddad", "The Ilisu dam at dusk."] {
                    #expect(text.contains(expected), "the article lacks “\(expected)”")
                }
                #expect(!text.contains("Subscribe now") && !text.contains("Thanks for reading"), "Substack's own buttons stay behind")
                let deal = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "tigris-deal").with(\.$text).first())
                let dealMarkdown = try deal.loadedMarkdown
                #expect(dealMarkdown.contains("](/media/upload-") && !dealMarkdown.contains("substackcdn"), "\(dealMarkdown)")

                let paid = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "inside-the-budget-talks").with(\.$text).first())
                #expect(paid.visibility == .paid && paid.dek == "What was on the table")
                let teaser = HTML.text(of: try await site.get("/articles/inside-the-budget-talks").body)
                #expect(teaser.contains("Ministers met twice.") && !teaser.contains("A deal is near"), "the preview ends where Substack's paywall was")
                #expect(try await Article.query(on: site.app.db).filter(\.$slug == "memo-kirkuk").first()?.visibility == .members)
                let episode = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "episode-one").with(\.$text).first())
                #expect(try episode.loadedMarkdown.hasPrefix("[Listen to the episode](https://api.substack.com/feed/podcast/150004/episode.mp3)"))
                #expect(try await Article.query(on: site.app.db).filter(\.$slug == "later").first()?.status == .draft)
                #expect(try await Article.query(on: site.app.db).filter(\.$slug == "open-thread").count() == 0)
                let moved = try await site.get("/p/tigris-deal")
                #expect(moved.status == .movedPermanently && moved.headers.first(name: .location) == "/articles/tigris-deal")

                let member = { (email: String) in try #require(try await Member.query(on: site.app.db).filter(\.$email == email).first()) }
                #expect(try await member("paid@example.com").paidUntil.map { $0 > Date().addingTimeInterval(250 * 86_400) } == true, "access runs as Stripe says")
                let subscription = try #require(try await Subscription.query(on: site.app.db).filter(\.$providerSubscriptionID == "sub_paid").first())
                #expect(subscription.providerCustomerID == "cus_paid" && subscription.status == .active)
                #expect(try await member("nocard@example.com").paidUntil == nil, "with Stripe here, only what Stripe says is paid for")
                #expect(try await member("comp@example.com").paidUntil.map { $0 > Date().addingTimeInterval(50 * 365 * 86_400) } == true)
                #expect(try await member("gift@example.com").paidUntil.map { abs($0.timeIntervalSinceNow - 90 * 86_400) < 86_400 } == true)
                #expect(try await member("lapsed@example.com").paidUntil == nil)
                #expect(try await member("free@example.com").paidUntil == nil)
                #expect(try await Member.query(on: site.app.db).filter(\.$email ~~ "deletion-request").count() == 0)
                let list = try #require(try await Newsletter.query(on: site.app.db).filter(\.$slug == "newsletter").first())
                let subscribed = try await NewsletterSubscription.query(on: site.app.db).filter(\.$newsletter.$id == list.requireID()).filter(\.$status == .active).all().map(\.email)
                #expect(Set(subscribed) == ["free@example.com", "paid@example.com", "nocard@example.com", "lapsed@example.com", "comp@example.com", "gift@example.com"])

                let again = try await MastheadProcess.run(arguments, environment: environment)
                #expect(again.status == 0, "\(again.standardError)")
                #expect(again.standardOutput.contains("Nothing new") && again.standardOutput.contains("Created nothing."), "\(again.standardOutput)")
                #expect(try await Member.query(on: site.app.db).count() == 7)
                #expect(try await Article.query(on: site.app.db).count() == 5)
                #expect(try await Subscription.query(on: site.app.db).count() == 1)
            }
        }
    }

    @Test("the ZIP Substack gives is read as it is; a dry run writes nothing, and a damaged ZIP is refused")
    func readsTheZip() async throws {
        let old = try Self.oldPublication()
        let zip = try await Self.zipped(old.folder)
        try await withSite(on: .sqlite, withDemo: false) { site in
            let environment = BackupTests.environment(site.settings)
            let dry = try await MastheadProcess.run(["import", "substack", zip, "--no-fetch-images", "--dry-run"], environment: environment)
            #expect(dry.status == 0, "\(dry.standardError)")
            #expect(dry.standardOutput.contains("Dry run: would import 5 articles (1 drafts), 2 pages, 0 authors, 0 topics, 0 images and 7 redirects from old addresses; 7 members"), "\(dry.standardOutput)")
            #expect(try await Article.query(on: site.app.db).count() == 0)
            #expect(try await Member.query(on: site.app.db).count() == 0)

            let damaged = try await Self.zipped(try Self.oldPublication().folder, damaging: true)
            let refused = try await MastheadProcess.run(["import", "substack", damaged, "--no-fetch-images"], environment: environment)
            #expect(refused.status == 1)
            #expect(refused.standardError.contains("posts.csv damaged"), "\(refused.standardError)")

            let result = try await MastheadProcess.run(["import", "substack", zip, "--no-fetch-images"], environment: environment)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(try await Article.query(on: site.app.db).count() == 5)
            #expect(try await Member.query(on: site.app.db).count() == 7)
            let paid = try #require(try await Member.query(on: site.app.db).filter(\.$email == "paid@example.com").first())
            #expect(paid.paidUntil.map { abs($0.timeIntervalSinceNow - 200 * 86_400) < 86_400 } == true, "without Stripe, complimentary access to the end of what they paid for")
        }
    }

    @Test("images posts show are fetched from where Substack keeps them and stored here; one that cannot be fetched is reported")
    func fetchesImages() async throws {
        let images = try await Application.make(.testing)
        images.logger.logLevel = .warning
        images.http.server.configuration.hostname = "127.0.0.1"
        images.http.server.configuration.port = 0
        let png = try Data(contentsOf: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png"))
        images.get("public", "images", "dam_1024x683.png") { _ in Response(status: .ok, body: .init(data: png)) }
        try images.server.start()
        let base = "http://127.0.0.1:\(images.http.server.shared.localAddress?.port ?? 0)"
        do {
            let csv = "post_id,post_date,is_published,type,audience,title,subtitle,podcast_url\n160001.pictures,2026-11-20T06:30:00.000Z,true,newsletter,everyone,Pictures,,\n"
            let old = try Self.oldPublication(postsCSV: csv)
            try #"<p>Before.</p><figure><img src="\#(base)/public/images/dam_1024x683.png" alt="Dam"><figcaption>The dam.</figcaption></figure><p><img src="\#(base)/public/images/gone_1x1.png" alt="Gone"></p><p><img src="https://elsewhere.example/public/images/other.png" alt="Elsewhere"></p>"#
                .write(toFile: old.folder + "/posts/160001.pictures.html", atomically: true, encoding: .utf8)
            try await withSite(on: .sqlite, withDemo: false) { site in
                var choices = SubstackImport.Choices()
                choices.imageSource = .init(host: "127.0.0.1", scheme: "http", port: images.http.server.shared.localAddress?.port)
                let (report, _) = try await SubstackImport.run(site.app, settings: site.settings, path: old.folder, choices: choices, options: .init())
                #expect(report.images == 1)
                #expect(report.notMapped.contains { $0.contains("gone_1x1.png could not be fetched from Substack (HTTP 404)") }, "\(report.notMapped)")
                let article = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "pictures").with(\.$text).first())
                let markdown = try article.loadedMarkdown
                #expect(markdown.contains("![Dam](/media/upload-") && markdown.contains("*The dam.*"))
                #expect(markdown.contains("https://elsewhere.example/public/images/other.png"), "only Substack's hosts are asked")
            }
        } catch {
            await images.server.shutdown()
            try? await images.asyncShutdown()
            throw error
        }
        await images.server.shutdown()
        try await images.asyncShutdown()
    }

    @Test("a Stripe customer goes only to the reader Stripe knows by that address, and to no one when two readers claim it; a post whose audience is unknown is for paying members")
    func stripeCustomersAreChecked() async throws {
        let old = try Self.oldPublication(postsCSV: "post_id,post_date,is_published,type,title\n170001.unsure,2026-11-20T06:30:00.000Z,true,newsletter,Unsure\n")
        try "<p>Who may read this?</p>".write(toFile: old.folder + "/posts/170001.unsure.html", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: old.folder + "/email_list.oldpub.csv")
        let inAYear = Self.iso(Date().addingTimeInterval(200 * 86_400))
        try """
        email,expiry,email_disabled,stripe_connected_customer_id,type
        thief@example.com,\(inAYear),false,cus_victim,paid
        first@example.com,\(inAYear),false,cus_shared,paid
        second@example.com,\(inAYear),false,cus_shared,paid

        """.write(toFile: old.folder + "/subscribers.csv", atomically: true, encoding: .utf8)
        try await withStripe { stripe in
            for (subscription, customer, email) in [("sub_victim", "cus_victim", "victim@example.com"), ("sub_shared", "cus_shared", "first@example.com")] {
                stripe.setSubscription(StripeEvents.subscription(id: subscription, customer: customer, memberID: nil, status: "active", periodEnd: Date().addingTimeInterval(300 * 86_400)))
                stripe.setCustomer(customer, email: email)
            }
            try await withSite(on: .sqlite, withDemo: false) { site in
                let environment = BackupTests.environment(site.settings).merging(Self.stripeEnvironment(stripe)) { $1 }
                let result = try await MastheadProcess.run(["import", "substack", old.folder, "--no-fetch-images"], environment: environment)
                #expect(result.status == 0, "\(result.standardError)")
                #expect(result.standardOutput.contains("reader thief@example.com: paid on Substack, but Stripe has their customer cus_victim under another address"), "\(result.standardOutput)")
                #expect(result.standardOutput.contains("reader first@example.com: paid on Substack, but the export gives their Stripe customer cus_shared to another reader too"))
                #expect(result.standardOutput.contains("post “Unsure”: its audience (none given) is not one Masthead knows, so it was imported for paying members only"))
                #expect(try await Subscription.query(on: site.app.db).count() == 0)
                #expect(try await Member.query(on: site.app.db).filter(\.$paidUntil != nil).count() == 0)
                #expect(try await Article.query(on: site.app.db).filter(\.$slug == "unsure").first()?.visibility == .paid)
            }
        }
    }

    @Test("images are fetched from Substack's own bucket only: older bucket names are read from it, other hosts, ports and schemes not at all")
    func imageHosts() throws {
        let source = SubstackImages.Source.substack
        let fetched = { (address: String) in source.fetchAddress(for: try #require(URL(string: address)))?.absoluteString }
        #expect(try fetched("https://substack-post-media.s3.amazonaws.com/public/images/a_1x1.png") == "https://substack-post-media.s3.amazonaws.com/public/images/a_1x1.png")
        #expect(try fetched("https://bucketeer-e05bbc84.s3.amazonaws.com/public/images/a_1x1.png") == "https://substack-post-media.s3.amazonaws.com/public/images/a_1x1.png")
        for refused in [
            "http://substack-post-media.s3.amazonaws.com/public/images/a.png", "https://substack-post-media.s3.amazonaws.com:8443/public/images/a.png",
            "https://substack-post-media.s3.amazonaws.com@evil.example/public/images/a.png", "https://evil.example/public/images/a.png",
            "https://substack-post-media.s3.amazonaws.com.evil.example/public/images/a.png",
        ] {
            #expect(try fetched(refused) == nil, "\(refused)")
        }
    }

    @Test("what is not a Substack export, a broken posts.csv and a Stripe that does not answer are refused in one line, and nothing is written")
    func refusals() async throws {
        try await withStripe { stripe in
            try await withSite(on: .sqlite, withDemo: false) { site in
                let environment = BackupTests.environment(site.settings)
                let empty = BackupTests.newFolder()
                try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
                let broken = try Self.oldPublication(postsCSV: "post_id,post_date,is_published,title\n\"150001.a,2026-11-20T06:30:00.000Z,true,A\n")
                for (arguments, extra, reason) in [
                    ([empty], [:], "is not a Substack export: it has no posts.csv"),
                    ([broken.folder], [:], "posts.csv ends inside a quoted field; nothing was imported"),
                    ([try Self.oldPublication().folder, "--no-fetch-images"], Self.stripeEnvironment(stripe), "Stripe did not answer for the customer cus_paid"),
                ] {
                    stripe.failNext(100)
                    let result = try await MastheadProcess.run(["import", "substack"] + arguments, environment: environment.merging(extra) { $1 })
                    #expect(result.status == 1, "\(reason)")
                    #expect(result.standardError.hasPrefix("masthead: ") && result.standardError.contains(reason), "\(result.standardError)")
                }
                #expect(try await Member.query(on: site.app.db).count() == 0)
                #expect(try await Article.query(on: site.app.db).count() == 0)
            }
        }
    }
}
