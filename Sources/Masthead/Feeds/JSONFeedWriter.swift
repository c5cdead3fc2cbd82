import Foundation

/// JSON Feed 1.1 (jsonfeed.org/version/1.1).
enum JSONFeedWriter {
    private struct Document: Encodable {
        let version = "https://jsonfeed.org/version/1.1"
        let title: String
        let homePageURL: String
        let feedURL: String
        let description: String
        let language: String?
        let icon: String?
        let authors: [Author]
        let items: [Item]

        enum CodingKeys: String, CodingKey {
            case version, title, homePageURL = "home_page_url", feedURL = "feed_url", description, language, icon, authors, items
        }
    }

    private struct Author: Encodable {
        let name: String
        let url: String
    }

    private struct Item: Encodable {
        let id: String
        let url: String
        let title: String
        let summary: String
        let contentHTML: String
        let image: String?
        let datePublished: String
        let dateModified: String
        let authors: [Author]
        let tags: [String]
        let language: String

        enum CodingKeys: String, CodingKey {
            case id, url, title, summary, contentHTML = "content_html", image, datePublished = "date_published",
                 dateModified = "date_modified", authors, tags, language
        }
    }

    static func write(_ feed: Feed) -> String {
        let document = Document(
            title: feed.title, homePageURL: feed.homeURL, feedURL: feed.url(.json), description: feed.description,
            language: feed.language, icon: feed.logoURL,
            authors: [.init(name: feed.siteName, url: feed.publicURL + "/")],
            items: feed.items.map { item in
                Item(
                    id: item.id, url: item.url, title: item.title, summary: item.summary, contentHTML: item.contentHTML,
                    image: item.image?.url, datePublished: EditionDates.iso(item.published),
                    dateModified: EditionDates.iso(item.modified),
                    authors: item.authors.map { .init(name: $0.name, url: $0.url) },
                    tags: item.categories.map(\.label), language: item.language
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
