import Fluent
import Foundation

/// The state of an article's content after one save, kept so editors can see what changed and
/// bring an earlier version back.
public final class ArticleRevision: Model, @unchecked Sendable {
    public static let schema = "article_revisions"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "article_id") public var article: Article
    /// 1 for the first save, then one more for each: the order of saves, even within a second.
    @Field(key: "number") public var number: Int
    @Field(key: "staff_name") public var staffName: String
    @Field(key: "action") public var action: String
    /// The `ArticleDraft` as JSON: the whole editable content, so a restore needs nothing else.
    @Field(key: "snapshot") var snapshot: String
    @Field(key: "created_at") public var createdAt: Date

    public init() {}

    init(articleID: UUID, number: Int, staffName: String, action: String, draft: ArticleDraft, at date: Date) throws {
        self.$article.id = articleID
        self.number = number
        self.staffName = staffName
        self.action = action
        self.snapshot = String(decoding: try JSONEncoder.revision.encode(draft), as: UTF8.self)
        self.createdAt = date
    }

    func draft() throws -> ArticleDraft {
        try JSONDecoder().decode(ArticleDraft.self, from: Data(snapshot.utf8))
    }
}

private extension JSONEncoder {
    static var revision: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// An article's earlier address, kept so links to it still arrive after the slug changes.
public final class SlugRedirect: Model, @unchecked Sendable {
    public static let schema = "slug_redirects"

    @ID(key: .id) public var id: UUID?
    @Field(key: "edition") public var edition: String
    @Field(key: "slug") public var slug: String
    @Parent(key: "article_id") public var article: Article

    public init() {}

    init(edition: String, slug: String, articleID: UUID) {
        self.edition = edition
        self.slug = slug
        self.$article.id = articleID
    }
}

/// A correction to a published article, shown to readers under the article with its date.
public final class Correction: Model, @unchecked Sendable {
    public static let schema = "corrections"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "article_id") public var article: Article
    @Field(key: "note") public var note: String
    @Field(key: "staff_name") public var staffName: String
    @Field(key: "created_at") public var createdAt: Date

    public init() {}

    init(articleID: UUID, note: String, staffName: String, at date: Date) {
        self.$article.id = articleID
        self.note = note
        self.staffName = staffName
        self.createdAt = date
    }
}
