import Fluent
import Foundation

/// An article's comments as one reader sees them: the visible ones, oldest first, each with
/// its replies; the reader's own comments that wait for a moderator; and, where a deleted
/// comment has replies, a marker in its place so the replies keep their context. A hidden
/// comment takes its replies with it.
struct CommentThread: Sendable {
    struct Entry: Sendable {
        let comment: Comment
        let replies: [Comment]
    }

    /// Threads shown at most, and comments read at most to make them: a discussion longer
    /// than that shows its first part (pages of a discussion are yet to come).
    static let longest = 300
    static let longestLoad = 3_000

    let entries: [Entry]
    /// Visible comments, replies included: the count readers see.
    let count: Int

    static func load(article articleID: UUID, for memberID: UUID?, on database: any Database) async throws -> CommentThread {
        let comments = try await Comment.query(on: database).filter(\.$articleID == articleID)
            .group(.or) { group in
                group.filter(\.$status == .visible).filter(\.$status == .deleted)
                if let memberID { group.group(.and) { $0.filter(\.$status == .pending).filter(\.$memberID == memberID) } }
            }
            .sort(\.$createdAt).sort(\.$id).range(..<Self.longestLoad).all()
        let replies = Dictionary(grouping: comments.filter { $0.parentID != nil && $0.status != .deleted }, by: { $0.parentID! })
        let entries = comments.filter { $0.parentID == nil }.compactMap { comment -> Entry? in
            let answers = replies[comment.id!] ?? []
            guard comment.status != .deleted || !answers.isEmpty else { return nil }
            return Entry(comment: comment, replies: answers)
        }.prefix(longest)
        let shown = entries.reduce(0) { $0 + ($1.comment.status == .visible ? 1 : 0) + $1.replies.filter { $0.status == .visible }.count }
        return CommentThread(entries: Array(entries), count: shown)
    }
}
