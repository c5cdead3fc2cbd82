import Foundation

/// RSS 2.0 (rssboard.org), with the modules readers expect from a news site: `content:encoded`
/// for the text, `dc:creator` per author, `media:content` for the lead image and its caption,
/// and `atom:link rel="self"`.
enum RSSWriter {
    static func write(_ feed: Feed) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="utf-8"?>"#,
            #"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">"#,
            "<channel>",
            XMLText.element("title", feed.title),
            XMLText.element("link", feed.homeURL),
            XMLText.element("description", feed.description),
        ]
        if let language = feed.language { lines.append(XMLText.element("language", language)) }
        lines += [
            XMLText.element("lastBuildDate", HTTPDate.format(feed.updated)),
            XMLText.element("generator", "Masthead"),
            XMLText.empty("atom:link", [("href", feed.url(.rss)), ("rel", "self"), ("type", FeedFormat.rss.linkType)]),
        ]
        if let logo = feed.logoURL {
            lines.append("<image>" + XMLText.element("url", logo) + XMLText.element("title", feed.title) + XMLText.element("link", feed.homeURL) + "</image>")
        }
        for item in feed.items { lines.append(self.item(item)) }
        lines += ["</channel>", "</rss>", ""]
        return lines.joined(separator: "\n")
    }

    private static func item(_ item: Feed.Item) -> String {
        var parts = [
            "<item>",
            XMLText.element("title", item.title),
            XMLText.element("link", item.url),
            XMLText.element("guid", item.id, [("isPermaLink", "false")]),
            XMLText.element("pubDate", HTTPDate.format(item.published)),
        ]
        parts += item.authors.map { XMLText.element("dc:creator", $0.name) }
        parts += item.categories.map { XMLText.element("category", $0.label) }
        parts += [XMLText.element("description", item.summary), XMLText.element("content:encoded", item.contentHTML)]
        if let image = item.image {
            var attributes = [("url", image.url), ("medium", "image"), ("type", image.mediaType)]
            if let width = image.width, let height = image.height {
                attributes += [("width", String(width)), ("height", String(height))]
            }
            var media = "<media:content\(XMLText.attributeText(attributes))>"
            let description = image.caption.isEmpty ? image.alt : image.caption
            if !description.isEmpty { media += XMLText.element("media:description", description, [("type", "plain")]) }
            if !image.credit.isEmpty { media += XMLText.element("media:credit", image.credit) }
            parts.append(media + "</media:content>")
        }
        parts.append("</item>")
        return parts.joined(separator: "\n")
    }
}
