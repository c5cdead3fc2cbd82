import Foundation

/// A Ghost export (Settings → Labs → Export, Ghost 4 and 5): its JSON read into plain values.
struct GhostExport: Decodable {
    struct Post: Decodable {
        let id: String
        let title: String?
        let slug: String
        let html: String?
        let lexical: String?
        let mobiledoc: String?
        let featureImage: String?
        let type: String?
        let status: String
        let visibility: String?
        let publishedAt: String?
        let customExcerpt: String?
    }

    struct PostMeta: Decodable {
        let postId: String
        let featureImageAlt: String?
        let featureImageCaption: String?
    }

    struct Tag: Decodable {
        let id: String
        let name: String
        let slug: String
        let description: String?
        let visibility: String?
    }

    struct User: Decodable {
        let id: String
        let name: String
        let slug: String
        let email: String?
        let bio: String?
    }

    struct Link: Decodable {
        let postId: String?
        let tagId: String?
        let authorId: String?
        let memberId: String?
        let labelId: String?
        let newsletterId: String?
        let sortOrder: Int?
    }

    struct Member: Decodable {
        let id: String
        let email: String
        let name: String?
        let status: String?
        let createdAt: String?
    }

    struct Label: Decodable {
        let id: String
        let name: String
    }

    struct Newsletter: Decodable {
        let id: String
        let name: String
        let slug: String
        let description: String?
        let senderName: String?
        let senderEmail: String?
        let senderReplyTo: String?
        let status: String?
        let subscribeOnSignup: Bool?
        let sortOrder: Int?
    }

    struct StripeCustomer: Decodable {
        let memberId: String
        let customerId: String
    }

    struct StripeSubscription: Decodable {
        let customerId: String
        let subscriptionId: String
        let status: String
        let currentPeriodEnd: String?
        let startDate: String?
        let cancelAtPeriodEnd: Bool?
        let planInterval: String?
        let planAmount: Int?
        let planCurrency: String?
    }

    struct Tables: Decodable {
        var posts: [Post]?
        var postsMeta: [PostMeta]?
        var tags: [Tag]?
        var postsTags: [Link]?
        var users: [User]?
        var postsAuthors: [Link]?
        var members: [Member]?
        var labels: [Label]?
        var membersLabels: [Link]?
        var newsletters: [Newsletter]?
        var membersNewsletters: [Link]?
        var membersStripeCustomers: [StripeCustomer]?
        var membersStripeCustomersSubscriptions: [StripeSubscription]?
    }

    struct Snapshot: Decodable {
        let meta: Meta?
        let data: Tables
    }

    struct Meta: Decodable {
        let version: String?
    }

    let db: [Snapshot]

    static func read(_ data: Data) throws -> GhostExport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            let export = try decoder.decode(GhostExport.self, from: data)
            guard !export.db.isEmpty else { throw ImportError("the file is not a Ghost export: its db list is empty") }
            return export
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw ImportError("the file is not valid JSON; nothing was imported")
            }
            throw ImportError("the file is not a Ghost export (\(ImportSource.describe(error)))")
        }
    }

    var tables: Tables { db[0].data }

    /// Dates as Ghost writes them: `2026-11-20T06:30:00.000Z`.
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return (try? Date(text, strategy: .iso8601)) ?? ISO8601DateFormatter().date(from: text)
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    /// The content in the form every importer plans from. Internal tags (`#…`) are kept out;
    /// each post and page keeps its Ghost visibility.
    func content(siteURL: String) -> ImportedContent {
        let tables = self.tables
        let users = tables.users ?? []
        let userSlugs = Dictionary(users.map { ($0.id, $0.slug) }) { first, _ in first }
        let tagSlugs = Dictionary((tables.tags ?? []).filter { $0.visibility != "internal" && !$0.name.hasPrefix("#") }.map { ($0.id, $0.slug) }) { first, _ in first }
        let meta = Dictionary((tables.postsMeta ?? []).map { ($0.postId, $0) }) { first, _ in first }
        let authorsOf = Dictionary(grouping: tables.postsAuthors ?? [], by: { $0.postId ?? "" })
        let tagsOf = Dictionary(grouping: tables.postsTags ?? [], by: { $0.postId ?? "" })
        var attachments: [String: ImportedContent.Attachment] = [:]
        let posts = (tables.posts ?? []).map { post -> ImportedContent.Post in
            if let image = post.featureImage, !image.isEmpty {
                attachments["feature-\(post.id)"] = .init(
                    id: "feature-\(post.id)", url: image, file: "", caption: meta[post.id]?.featureImageCaption ?? "", alt: meta[post.id]?.featureImageAlt ?? ""
                )
            }
            let status = switch post.status {
            case "published": "publish"
            case "scheduled": "future"
            case "draft": "draft"
            default: post.status
            }
            let visibility: Visibility? = switch post.visibility {
            case "members": .members
            case "paid", "tiers": .paid
            case "public": .public
            default: nil
            }
            let body = post.html ?? post.lexical.map(GhostLexical.html) ?? post.mobiledoc.map(GhostMobiledoc.html) ?? ""
            let address = siteURL + "/" + post.slug + "/"
            return .init(
                id: post.id, type: post.type ?? "post", title: post.title ?? "", slug: post.slug, status: status,
                link: address.replacingOccurrences(of: "__GHOST_URL__", with: ""), guid: "", creators: (authorsOf[post.id] ?? [])
                    .sorted { ($0.sortOrder ?? 0) < ($1.sortOrder ?? 0) }.compactMap { $0.authorId.flatMap { userSlugs[$0] } },
                content: body, excerpt: post.customExcerpt ?? "", dateGMT: Self.date(post.publishedAt), localDate: nil,
                categories: [], tags: (tagsOf[post.id] ?? []).sorted { ($0.sortOrder ?? 0) < ($1.sortOrder ?? 0) }.compactMap { $0.tagId.flatMap { tagSlugs[$0] } },
                language: nil, thumbnailID: attachments["feature-\(post.id)"] == nil ? nil : "feature-\(post.id)", visibility: visibility
            )
        }
        return ImportedContent(
            platform: "ghost", siteURL: siteURL, uploadsMarker: "/content/images/",
            authors: users.map { .init(login: $0.slug, email: $0.email ?? "", displayName: $0.name, bio: $0.bio ?? "") },
            categories: [],
            tags: (tables.tags ?? []).filter { tagSlugs[$0.id] != nil }.map { .init(slug: $0.slug, name: $0.name, description: $0.description ?? "") },
            attachments: attachments, posts: posts
        )
    }
}
