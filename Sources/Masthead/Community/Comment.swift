import Fluent
import Foundation

/// A member's comment on an article, or a reply to one (replies go one level deep). Stored as
/// the plain text the member wrote, and shown as text with links, never as HTML.
final class Comment: Model, @unchecked Sendable {
    static let schema = "comments"

    enum Status: String, Codable, Sendable, CaseIterable {
        /// Waiting for a moderator: a member's first comment, or one with a listed word.
        case pending
        case visible
        /// Taken down by a moderator: nobody but staff sees it.
        case hidden
        /// Deleted by its author or a moderator: its text is gone, its replies stay.
        case deleted
    }

    /// How the comment is marked beside its author's name.
    enum Badge: String, Codable, Sendable {
        case staff, author
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "article_id") var articleID: UUID
    @OptionalField(key: "parent_id") var parentID: UUID?
    @Field(key: "member_id") var memberID: UUID
    /// The name shown, as the member's name was when they wrote.
    @Field(key: "author_name") var authorName: String
    @Field(key: "body") var body: String
    @Enum(key: "status") var status: Status
    @OptionalEnum(key: "badge") var badge: Badge?
    @Field(key: "reports") var reports: Int
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "edited_at") var editedAt: Date?

    init() {}
}

/// A reader's report of a comment; one per reader and comment.
final class CommentReport: Model, @unchecked Sendable {
    static let schema = "comment_reports"

    @ID(key: .id) var id: UUID?
    @Field(key: "comment_id") var commentID: UUID
    @Field(key: "member_id") var memberID: UUID
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// An address barred from commenting by a moderator (the member's, normalised).
final class CommentBan: Model, @unchecked Sendable {
    static let schema = "comment_bans"

    @ID(custom: "email", generatedBy: .user) var id: String?
    @Field(key: "banned_by") var bannedBy: String
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// Whether an article takes comments: as its kind does by default in its edition's settings,
/// or open or closed for this article alone.
enum CommentsChoice: String, Codable, Sendable, CaseIterable {
    case byKind = "default", open, closed
}
