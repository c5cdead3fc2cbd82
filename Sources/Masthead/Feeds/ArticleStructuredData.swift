import Foundation

/// schema.org NewsArticle for an article page (JSON-LD), including Google's markup for paywalled
/// content: `isAccessibleForFree: false` and a `hasPart` naming the gated section by CSS selector.
/// It carries only the headline and dek, never body text, so it is the same for every viewer.
struct ArticleStructuredData: Encodable {
    struct Person: Encodable {
        let type = "Person"
        let name: String
        var url: String?
        enum CodingKeys: String, CodingKey { case type = "@type", name, url }
    }

    struct GatedPart: Encodable {
        let type = "WebPageElement"
        let isAccessibleForFree = false
        var cssSelector = ".article__gated"
        enum CodingKeys: String, CodingKey { case type = "@type", isAccessibleForFree, cssSelector }
    }

    /// One update of a live story, as schema.org's `LiveBlogPosting.liveBlogUpdate` lists them.
    struct LiveUpdate: Encodable {
        let type = "BlogPosting"
        let headline: String
        let url: String
        let datePublished: String
        let dateModified: String
        let articleBody: String
        let author: [Person]
        enum CodingKeys: String, CodingKey { case type = "@type", headline, url, datePublished, dateModified, articleBody, author }
    }

    let context = "https://schema.org"
    /// `LiveBlogPosting` (a kind of NewsArticle) for a story covered live.
    var type = "NewsArticle"
    let headline: String
    let description: String
    let inLanguage: String
    let mainEntityOfPage: String
    let url: String
    let image: [String]
    let datePublished: String
    let dateModified: String
    let articleSection: String
    let keywords: [String]
    let author: [Person]
    let publisher: StructuredData.Organization
    let isAccessibleForFree: Bool
    var hasPart: GatedPart?
    var coverageStartTime: String?
    var coverageEndTime: String?
    /// Only for a reader who may read the updates: the page's JSON-LD is as gated as its text.
    var liveBlogUpdate: [LiveUpdate]?

    enum CodingKeys: String, CodingKey {
        case context = "@context", type = "@type", headline, description, inLanguage, mainEntityOfPage, url,
             image, datePublished, dateModified, articleSection, keywords, author, publisher,
             isAccessibleForFree, hasPart, coverageStartTime, coverageEndTime, liveBlogUpdate
    }
}

/// The other schema.org documents the site's pages carry, and the one way they are written.
enum StructuredData {
    struct ImageObject: Encodable {
        let type = "ImageObject"
        let url: String
        enum CodingKeys: String, CodingKey { case type = "@type", url }
    }

    struct Organization: Encodable {
        var context: String?
        let type = "NewsMediaOrganization"
        let name: String
        let url: String
        let logo: ImageObject?
        enum CodingKeys: String, CodingKey { case context = "@context", type = "@type", name, url, logo }

        init(name: String, url: String, logoURL: String?, standalone: Bool = false) {
            context = standalone ? "https://schema.org" : nil
            self.name = name
            self.url = url
            logo = logoURL.map(ImageObject.init)
        }
    }

    struct WebSite: Encodable {
        let context = "https://schema.org"
        let type = "WebSite"
        let name: String
        let url: String
        let inLanguage: String
        let description: String
        let potentialAction: SearchAction
        enum CodingKeys: String, CodingKey { case context = "@context", type = "@type", name, url, inLanguage, description, potentialAction }

        /// The site's search, which search engines may offer in their results.
        struct SearchAction: Encodable {
            let type = "SearchAction"
            let target: Target
            let queryInput = "required name=search_term_string"
            enum CodingKeys: String, CodingKey { case type = "@type", target, queryInput = "query-input" }

            struct Target: Encodable {
                let type = "EntryPoint"
                let urlTemplate: String
                enum CodingKeys: String, CodingKey { case type = "@type", urlTemplate }
            }

            init(searchURL: String) {
                target = Target(urlTemplate: searchURL + "?q={search_term_string}")
            }
        }
    }

    /// Where a page sits: home, then a listing, then the page itself (schema.org BreadcrumbList).
    struct Breadcrumbs: Encodable {
        struct Item: Encodable {
            let type = "ListItem"
            let position: Int
            let name: String
            let item: String
            enum CodingKeys: String, CodingKey { case type = "@type", position, name, item }
        }

        let context = "https://schema.org"
        let type = "BreadcrumbList"
        let itemListElement: [Item]
        enum CodingKeys: String, CodingKey { case context = "@context", type = "@type", itemListElement }

        init(_ trail: [(name: String, url: String)]) {
            itemListElement = trail.enumerated().map { Item(position: $0.offset + 1, name: $0.element.name, item: $0.element.url) }
        }
    }

    /// The JSON text, safe inside `<script type="application/ld+json">`: slashes are escaped by
    /// the encoder and `<` becomes `\u003c`, so no `</script>` or `<!--` can end the element early.
    /// Replaced byte by byte: a string search compares characters, and a `<` that a preceding
    /// mark joins into one character would not be found.
    static func script(_ document: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(document) else { return "{}" }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(json.count + 16)
        for byte in json {
            if byte == UInt8(ascii: "<") { escaped.append(contentsOf: Array("\\u003c".utf8)) } else { escaped.append(byte) }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}

/// Open Graph (ogp.me) and Twitter card tags for an article.
enum SocialMeta {
    static func article(
        title: String, description: String, url: String, imageURL: String?, imageAlt: String,
        siteName: String, locale: String, published: String, modified: String, section: String, tags: [String]
    ) -> [LayoutModel.MetaTag] {
        var tags = [
            og("og:type", "article"), og("og:title", title), og("og:description", description), og("og:url", url),
            og("og:site_name", siteName), og("og:locale", locale),
            og("article:published_time", published), og("article:modified_time", modified),
            og("article:section", section),
        ] + tags.map { og("article:tag", $0) }
        if let imageURL {
            tags += [og("og:image", imageURL), og("og:image:alt", imageAlt)]
        }
        tags += [
            named("twitter:card", imageURL == nil ? "summary" : "summary_large_image"),
            named("twitter:title", title), named("twitter:description", description),
        ]
        return tags
    }

    static func website(title: String, description: String, url: String, siteName: String, locale: String) -> [LayoutModel.MetaTag] {
        [
            og("og:type", "website"), og("og:title", title), og("og:description", description), og("og:url", url),
            og("og:site_name", siteName), og("og:locale", locale), named("twitter:card", "summary"),
        ]
    }

    private static func og(_ property: String, _ content: String) -> LayoutModel.MetaTag {
        .init(attribute: "property", name: property, content: content)
    }

    private static func named(_ name: String, _ content: String) -> LayoutModel.MetaTag {
        .init(attribute: "name", name: name, content: content)
    }
}
