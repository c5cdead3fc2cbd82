import Foundation

/// A WordPress export (WXR 1.0 to 1.2, from Tools → Export) read into the importers' values.
extension ImportedContent {
    init(wordPress data: Data) throws {
        let root: XMLElement
        do {
            root = try XMLTree.parse(data)
        } catch let error as XMLSyntaxError {
            throw ImportError("the file is not well-formed XML (\(error.description)); nothing was imported")
        }
        guard root.name == "rss", let channel = root.child("channel") else {
            throw ImportError("the file is not a WordPress export: it has no <rss><channel>")
        }
        let version = channel.value("wp:wxr_version")
        guard ["1.0", "1.1", "1.2"].contains(version) else {
            throw ImportError(version.isEmpty ? "the file is not a WordPress export: it names no WXR version" : "WXR version \(version) is not one this importer reads (1.0 to 1.2)")
        }
        platform = "wordpress"
        uploadsMarker = "/wp-content/uploads/"
        siteURL = channel.value("wp:base_blog_url").isEmpty ? channel.value("link") : channel.value("wp:base_blog_url")
        authors = channel.children("wp:author").map {
            Author(login: $0.value("wp:author_login"), email: $0.value("wp:author_email"), displayName: $0.value("wp:author_display_name"))
        }
        categories = channel.children("wp:category").map {
            Term(slug: Self.decodedSlug($0.value("wp:category_nicename")), name: $0.value("wp:cat_name"), description: $0.value("wp:category_description"))
        }
        tags = channel.children("wp:tag").map {
            Term(slug: Self.decodedSlug($0.value("wp:tag_slug")), name: $0.value("wp:tag_name"), description: $0.value("wp:tag_description"))
        }
        var attachments: [String: Attachment] = [:]
        var posts: [Post] = []
        for item in channel.children("item") {
            let meta = Dictionary(item.children("wp:postmeta").map { ($0.value("wp:meta_key"), $0.child("wp:meta_value")?.text ?? "") }) { first, _ in first }
            let id = item.value("wp:post_id")
            let type = item.value("wp:post_type")
            if type == "attachment" {
                attachments[id] = Attachment(
                    id: id, url: item.value("wp:attachment_url"), file: meta["_wp_attached_file"] ?? "",
                    caption: item.value("excerpt:encoded"), alt: meta["_wp_attachment_image_alt"] ?? ""
                )
                continue
            }
            let terms = item.children("category")
            let named = { (domain: String) in terms.filter { $0.attributes["domain"] == domain }.map { Self.decodedSlug($0.attributes["nicename"] ?? "") } }
            posts.append(Post(
                id: id, type: type, title: item.value("title"), slug: Self.decodedSlug(item.value("wp:post_name")),
                status: item.value("wp:status"), link: item.value("link"), guid: item.value("guid"), creators: [item.value("dc:creator")].filter { !$0.isEmpty },
                content: WordPressShortcodes.expanded(item.child("content:encoded")?.text ?? ""), excerpt: item.value("excerpt:encoded"),
                dateGMT: Self.date(item.value("wp:post_date_gmt")), localDate: Self.components(item.value("wp:post_date")),
                categories: named("category"), tags: named("post_tag"), language: named("language").first,
                thumbnailID: meta["_thumbnail_id"]
            ))
        }
        self.attachments = attachments
        self.posts = posts
    }

    /// WordPress stores non-Latin slugs percent-escaped (`%d8%a7…`).
    static func decodedSlug(_ slug: String) -> String {
        slug.removingPercentEncoding ?? slug
    }

    private static func components(_ text: String) -> DateComponents? {
        let parts = text.split(whereSeparator: { "- :".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6, parts[0] > 0 else { return nil }
        return DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
    }

    private static func date(_ text: String) -> Date? {
        guard let parts = components(text) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar.date(from: parts)
    }
}
