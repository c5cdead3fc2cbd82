import Foundation

/// Sitemap XML: the index (sitemaps.org 0.9), URL sets with `xhtml:link` alternates (Google's
/// hreflang in sitemaps), and the Google News sitemap (sitemap-news 0.9).
enum SitemapWriter {
    private static let header = #"<?xml version="1.0" encoding="utf-8"?>"#

    static func index(_ paths: [String], publicURL: String) -> String {
        var lines = [header, #"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#]
        lines += paths.map { "<sitemap>" + XMLText.element("loc", publicURL + $0) + "</sitemap>" }
        lines += ["</sitemapindex>", ""]
        return lines.joined(separator: "\n")
    }

    static func urls(_ entries: [Sitemaps.Entry], publicURL: String) -> String {
        var lines = [header, #"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">"#]
        for entry in entries {
            var parts = ["<url>", XMLText.element("loc", publicURL + entry.path)]
            if let lastModified = entry.lastModified { parts.append(XMLText.element("lastmod", EditionDates.iso(lastModified))) }
            parts += entry.alternates.map {
                XMLText.empty("xhtml:link", [("rel", "alternate"), ("hreflang", $0.language), ("href", publicURL + $0.path)])
            }
            parts.append("</url>")
            lines.append(parts.joined())
        }
        lines += ["</urlset>", ""]
        return lines.joined(separator: "\n")
    }

    static func news(_ entries: [Sitemaps.NewsEntry], publicationName: String, publicURL: String) -> String {
        var lines = [header, #"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">"#]
        for entry in entries {
            lines.append([
                "<url>", XMLText.element("loc", publicURL + entry.path), "<news:news>",
                "<news:publication>", XMLText.element("news:name", publicationName), XMLText.element("news:language", entry.language),
                "</news:publication>",
                XMLText.element("news:publication_date", EditionDates.iso(entry.published)),
                XMLText.element("news:title", entry.title),
                "</news:news>", "</url>",
            ].joined())
        }
        lines += ["</urlset>", ""]
        return lines.joined(separator: "\n")
    }
}
