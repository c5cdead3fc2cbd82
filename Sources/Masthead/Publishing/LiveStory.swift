import Fluent
import Foundation
import Ink

/// An article covered as it happens. Its summary ("what we know") is for every reader, like an
/// article's preview; its updates are the story's text and follow its visibility: they are
/// read only through `LiveUpdates.visible`, in exchange for the article's `FullTextGrant`.
final class LiveStory: Model, @unchecked Sendable {
    static let schema = "live_stories"

    @ID(custom: "article_id", generatedBy: .user) var id: UUID?
    @Field(key: "summary_markdown") var summaryMarkdown: String
    @Field(key: "summary_html") var summaryHTML: String
    /// When coverage began and, once editors close it, ended (schema.org's coverage times).
    @Field(key: "started_at") var startedAt: Date
    @OptionalField(key: "ended_at") var endedAt: Date?
    /// Raised by every change to the story's updates: what a reader's page has seen is a version.
    @Field(key: "version") var version: Int64

    init() {}

    init(articleID: UUID, summary: String, startedAt: Date) {
        id = articleID
        self.startedAt = startedAt
        version = 0
        setSummary(summary)
    }

    var isLive: Bool { endedAt == nil }

    func setSummary(_ markdown: String) {
        summaryMarkdown = markdown
        summaryHTML = BodyHTML.sanitized(MarkdownParser().html(from: markdown))
    }
}

/// One timestamped, signed update to a live story.
final class LiveUpdate: Model, @unchecked Sendable {
    static let schema = "live_updates"

    @ID(key: .id) var id: UUID?
    @Field(key: "article_id") var articleID: UUID
    /// Its place in the story, in the order editors posted: never changes.
    @Field(key: "sequence") var sequence: Int64
    /// The story's version when it was last posted, edited, pinned or removed.
    @Field(key: "version") var version: Int64
    /// Shown above the update, and in the key events' list when it is one.
    @Field(key: "headline") var headline: String
    @Field(key: "markdown") var markdown: String
    @Field(key: "html") var html: String
    @Field(key: "key_event") var keyEvent: Bool
    @Field(key: "pinned") var pinned: Bool
    /// The byline it was posted under, kept if the staff account is later removed.
    @Field(key: "author_name") var authorName: String
    @OptionalField(key: "staff_id") var staffID: UUID?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    /// Removed updates stay as rows, so that open pages learn to take them away.
    @Field(key: "deleted") var deleted: Bool

    init() {}

    /// The short address of the update on its story's page: `#update-<sequence>`.
    var anchor: String { "update-\(sequence)" }

    func setBody(_ markdown: String) {
        self.markdown = markdown
        html = BodyHTML.sanitized(MarkdownParser().html(from: markdown))
    }
}

/// The one way to read a live story's updates: with the grant `AccessPolicy.decide` gave for
/// this very article, so an update never reaches a reader who may not read the story.
enum LiveUpdates {
    /// A page of the updates still standing, newest first: the newest `limit`, or the `limit`
    /// before the update numbered `before`; and whether there are older ones.
    static func page(
        _ grant: FullTextGrant, story: LiveStory, before: Int64? = nil, limit: Int, on database: any Database
    ) async throws -> (updates: [LiveUpdate], hasOlder: Bool) {
        guard let articleID = story.id, grant.articleID == articleID else { return ([], false) }
        var query = LiveUpdate.query(on: database).filter(\.$articleID == articleID).filter(\.$deleted == false)
        if let before { query = query.filter(\.$sequence < before) }
        let found = try await query.sort(\.$sequence, .descending).limit(limit + 1).all()
        return (Array(found.prefix(limit)), found.count > limit)
    }

    /// The pinned updates and key events still standing, newest first, whichever page of updates
    /// they are on: the story's page lists them, up to a bound that keeps it a page.
    static func standingOut(_ grant: FullTextGrant, story: LiveStory, on database: any Database) async throws -> [LiveUpdate] {
        guard let articleID = story.id, grant.articleID == articleID else { return [] }
        let standing = LiveUpdate.query(on: database).filter(\.$articleID == articleID).filter(\.$deleted == false)
        let pinned = try await standing.copy().filter(\.$pinned == true).sort(\.$sequence, .descending).limit(mostPinned).all()
        let keyEvents = try await standing.copy().filter(\.$keyEvent == true).filter(\.$pinned == false)
            .sort(\.$sequence, .descending).limit(mostKeyEvents).all()
        return (pinned + keyEvents).sorted { $0.sequence > $1.sequence }
    }

    static let mostPinned = 10
    static let mostKeyEvents = 100

    /// What changed after `version` (new, edited, pinned and removed updates), oldest change first.
    static func changes(_ grant: FullTextGrant, story: LiveStory, after version: Int64, on database: any Database) async throws -> [LiveUpdate] {
        guard let articleID = story.id, grant.articleID == articleID else { return [] }
        return try await LiveUpdate.query(on: database)
            .filter(\.$articleID == articleID).filter(\.$version > version)
            .sort(\.$version).all()
    }
}
