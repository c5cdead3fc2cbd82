import Fluent
import Foundation

/// One thing an importer created, keyed by where it came from (`wordpress:https://old.example`)
/// and what it was there (`post:123`): a rerun finds it and creates nothing.
final class ImportedItem: Model, @unchecked Sendable {
    static let schema = "imported_items"

    @ID(key: .id) var id: UUID?
    @Field(key: "source") var source: String
    @Field(key: "source_key") var sourceKey: String
    @Field(key: "target_id") var targetID: UUID
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(source: String, key: String, targetID: UUID, at date: Date) {
        self.source = source
        self.sourceKey = key
        self.targetID = targetID
        self.createdAt = date
    }
}

/// An address an article had on the platform it came from (`/2019/03/12/some-story`,
/// `/?p=123`), answered with a permanent redirect to where it lives now.
final class LegacyPath: Model, @unchecked Sendable {
    static let schema = "legacy_paths"

    @ID(key: .id) var id: UUID?
    @Field(key: "path") var path: String
    @Parent(key: "article_id") var article: Article

    init() {}

    init(path: String, articleID: UUID) {
        self.path = path
        self.$article.id = articleID
    }

    /// One spelling for every way an address arrives: percent-escapes decoded (WordPress
    /// writes Arabic slugs escaped, in either case), no trailing slash, and of the query only
    /// the parameters WordPress addresses posts by.
    static func normalized(path: String, query: String?) -> String? {
        var decoded = (path.removingPercentEncoding ?? path)
        while decoded.count > 1, decoded.hasSuffix("/") { decoded.removeLast() }
        guard decoded.hasPrefix("/"), decoded.count <= 1_000 else { return nil }
        let kept = (query ?? "").split(separator: "&").filter { pair in
            ["p", "page_id", "attachment_id"].contains(pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "")
        }
        return kept.isEmpty ? decoded : decoded + "?" + kept.sorted().joined(separator: "&")
    }

    static func normalized(url: String) -> String? {
        guard let components = URLComponents(string: url.trimmingCharacters(in: .whitespaces)) else { return nil }
        return normalized(path: components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath, query: components.percentEncodedQuery)
    }
}

/// An address a standing page had on the platform it came from (`/about-us/`, `/?page_id=2`).
final class LegacyPagePath: Model, @unchecked Sendable {
    static let schema = "legacy_page_paths"

    @ID(key: .id) var id: UUID?
    @Field(key: "path") var path: String
    @Parent(key: "page_id") var page: Page

    init() {}

    init(path: String, pageID: UUID) {
        self.path = path
        self.$page.id = pageID
    }
}

/// A member an import brings from another platform, with what gives them access there.
protocol ImportedMember {
    var key: String { get }
    var member: Member { get }
    var subscriptions: [Subscription] { get }
    var grant: ComplimentaryAccess? { get }
}

extension ImportedMember {
    /// Writes the member and their access, recorded as imported from `source`.
    func create(on database: any Database, source: String, at now: Date) async throws {
        try await member.create(on: database)
        for subscription in subscriptions { try await subscription.create(on: database) }
        try await grant?.create(on: database)
        try await ImportedItem(source: source, key: key, targetID: try member.requireID(), at: now).create(on: database)
    }

    /// Puts the member on a list they received on the old platform, confirmed there.
    func subscribe(to newsletterID: UUID, on database: any Database, at now: Date) async throws {
        let subscription = NewsletterSubscription(
            newsletterID: newsletterID, email: member.email, name: member.name, memberID: try member.requireID(), status: .active, source: .import_, createdAt: now
        )
        subscription.confirmedAt = now
        try await subscription.create(on: database)
    }
}
