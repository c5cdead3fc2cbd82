import Foundation

/// Atom (RFC 4287). The feed names the outlet as its author, so every entry has one (§4.1.1)
/// even when an article has no byline; each entry's id is the article's `urn:uuid:` (§4.2.6).
enum AtomWriter {
    static func write(_ feed: Feed) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="utf-8"?>"#,
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"\(feed.language.map { " xml:lang=\"\(XMLText.escape($0))\"" } ?? "")>",
            XMLText.element("id", feed.url(.atom)),
            XMLText.element("title", feed.title),
            XMLText.element("subtitle", feed.description),
            XMLText.element("updated", EditionDates.iso(feed.updated)),
            XMLText.empty("link", [("rel", "self"), ("type", FeedFormat.atom.linkType), ("href", feed.url(.atom))]),
            XMLText.empty("link", [("rel", "alternate"), ("type", "text/html"), ("href", feed.homeURL)]),
            "<author>" + XMLText.element("name", feed.siteName) + XMLText.element("uri", feed.publicURL + "/") + "</author>",
            XMLText.element("generator", "Masthead"),
        ]
        if let logo = feed.logoURL { lines.append(XMLText.element("logo", logo)) }
        for item in feed.items { lines.append(entry(item, mixedLanguages: feed.language == nil)) }
        lines += ["</feed>", ""]
        return lines.joined(separator: "\n")
    }

    private static func entry(_ item: Feed.Item, mixedLanguages: Bool) -> String {
        var parts = [
            mixedLanguages ? "<entry xml:lang=\"\(XMLText.escape(item.language))\">" : "<entry>",
            XMLText.element("id", item.id),
            XMLText.element("title", item.title),
            XMLText.empty("link", [("rel", "alternate"), ("type", "text/html"), ("href", item.url)]),
            XMLText.element("published", EditionDates.iso(item.published)),
            XMLText.element("updated", EditionDates.iso(item.modified)),
        ]
        parts += item.authors.map { "<author>" + XMLText.element("name", $0.name) + XMLText.element("uri", $0.url) + "</author>" }
        parts += item.categories.map { XMLText.empty("category", [("term", $0.term), ("label", $0.label)]) }
        if let image = item.image {
            var attributes = [("rel", "enclosure"), ("type", image.mediaType), ("href", image.url)]
            let title = image.caption.isEmpty ? image.alt : image.caption
            if !title.isEmpty { attributes.append(("title", title)) }
            parts.append(XMLText.empty("link", attributes))
        }
        parts += [
            XMLText.element("summary", item.summary),
            XMLText.element("content", item.contentHTML, [("type", "html")]),
            "</entry>",
        ]
        return parts.joined(separator: "\n")
    }
}
