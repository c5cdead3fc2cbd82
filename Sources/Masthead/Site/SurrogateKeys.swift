import Fluent
import Foundation
import NIOHTTP1

/// The names a shared cache (a CDN, Varnish, nginx) files a public page under, so that a
/// publish can purge the pages it changes and no others: `Surrogate-Key` (Fastly, Varnish's
/// xkey) and `Cache-Tag` (Cloudflare). Every page also carries `site`, and every page of an
/// edition `edition-<code>`, for changes that touch them all (settings, a breaking banner).
/// A listing and its feeds share a name, as one publish changes both.
struct SurrogateKeys: Sendable, Equatable {
    let names: [String]

    /// The names of a cached page or document, by the name the page cache knows it by.
    init(document: String) {
        let parts = document.split(separator: "/").map(String.init)
        var names = ["site"]
        switch parts.first ?? "" {
        case "sitemap":
            names.append("sitemaps")
        case "feed" where parts.count == 3:
            names.append(parts[1] == "all" ? "latest-all" : "latest-\(parts[1])")
        case "feed" where parts.count == 5:
            names.append("\(parts[2])-\(parts[1])-\(parts[3])")
        case "home" where parts.count == 2:
            names.append("latest-\(parts[1])")
        case "article", "page", "kind", "topic", "author":
            if parts.count >= 3 { names.append("\(parts[0])-\(parts[1])-\(parts[2])") }
        default:
            break
        }
        if parts.count >= 2, parts[0] != "sitemap", parts[1] != "all" { names.insert("edition-\(parts[1])", at: 1) }
        self.names = names
    }

    func add(to headers: inout HTTPHeaders) {
        headers.add(name: "Surrogate-Key", value: names.joined(separator: " "))
        headers.add(name: "Cache-Tag", value: names.joined(separator: ","))
    }
}

extension SurrogateKeys {
    init(names: [String]) {
        self.names = names
    }

    /// Every public page: for changes that show everywhere (settings, topic names, navigation).
    static let everything = SurrogateKeys(names: ["site"])
    /// Nothing: for changes a shared cache may catch up with in its own time (comment counts).
    static let nothing = SurrogateKeys(names: [])

    static func editions(_ codes: [String]) -> SurrogateKeys {
        SurrogateKeys(names: Set(codes).sorted().map { "edition-\($0)" })
    }

    /// What a change of these articles changes, as they are now in `database` and as they were
    /// (`formerly`, for an article whose slug, kind, edition, topics or bylines moved): each
    /// one's page, the newest lists of its edition and of all editions, the listings and feeds of
    /// its kind, topics and authors, and the sitemaps. Pages that merely link to it as related
    /// reading catch up when the shared cache's time for them is up.
    static func articles(_ ids: [UUID], formerly: [ArticleDraft] = [], on database: any Database) async throws -> SurrogateKeys {
        let articles = try await Article.query(on: database).filter(\.$id ~~ ids).all()
        let topicLinks = try await ArticleTopic.query(on: database).filter(\.$article.$id ~~ ids).all()
        let authorLinks = try await ArticleAuthor.query(on: database).filter(\.$article.$id ~~ ids).all()
        var listed = formerly.map { (edition: $0.edition, slug: $0.slug, kind: $0.kind, topicIDs: $0.topicIDs, authorIDs: $0.authorIDs) }
        for article in articles {
            let id = try article.requireID()
            listed.append((
                edition: article.edition, slug: article.slug, kind: article.kind,
                topicIDs: topicLinks.filter { $0.$article.id == id }.map { $0.$topic.id },
                authorIDs: authorLinks.filter { $0.$article.id == id }.map { $0.$author.id }
            ))
        }
        let topicSlugs = try await Topic.query(on: database).filter(\.$id ~~ Set(listed.flatMap(\.topicIDs))).all()
            .reduce(into: [UUID: String]()) { slugs, topic in slugs[topic.id!] = topic.slug }
        let authorSlugs = try await Author.query(on: database).filter(\.$id ~~ Set(listed.flatMap(\.authorIDs))).all()
            .reduce(into: [UUID: String]()) { slugs, author in slugs[author.id!] = author.slug }
        var names: [String] = []
        for entry in listed {
            let edition = entry.edition
            names += ["article-\(edition)-\(entry.slug)", "latest-\(edition)", "kind-\(edition)-\(entry.kind.rawValue)"]
            names += entry.topicIDs.compactMap { topicSlugs[$0] }.map { "topic-\(edition)-\($0)" }
            names += entry.authorIDs.compactMap { authorSlugs[$0] }.map { "author-\(edition)-\($0)" }
        }
        if !listed.isEmpty { names += ["latest-all", "sitemaps"] }
        var seen = Set<String>()
        return SurrogateKeys(names: names.filter { seen.insert($0).inserted })
    }
}
