import Fluent
import Foundation
import SQLKit

/// What members do with comments: write one or reply to one, edit it for a few minutes, delete
/// it, and report someone else's. Every rule a member meets is here; the moderators' side is
/// `CommentModeration`.
struct CommentDesk: Sendable {
    let database: any Database
    let settings: SiteSettingsValues
    let now: Date

    /// Why a member's comment was not taken, in the edition's words (a translation key).
    struct Refusal: Error, Equatable {
        let messageKey: String
        let tooMany: Bool

        init(_ messageKey: String, tooMany: Bool = false) {
            self.messageKey = messageKey
            self.tooMany = tooMany
        }
    }

    static let longestComment = 5_000
    static let editWindow: TimeInterval = 5 * 60
    /// At most this many comments in ten minutes, and in a day, per member.
    static let perTenMinutes = 5
    static let perDay = 50
    /// A member not yet trusted (no comment approved) may have this many waiting at once.
    static let waitingAtOnce = 2

    enum Posted: Equatable {
        case visible, awaitingModeration
    }

    func post(on article: Article, replyingTo parentID: UUID?, text: String, by member: Member, viewer: Viewer) async throws -> (Comment, Posted) {
        let memberID = try member.requireID()
        try await checkMayComment(on: article, member: member, viewer: viewer)
        let body = try validated(text)
        let articleID = try article.requireID()
        var threadID: UUID?
        if let parentID {
            guard let parent = try await Comment.find(parentID, on: database), parent.articleID == articleID,
                  parent.status == .visible
            else { throw Refusal("comments_error_gone") }
            // Replies go one level deep: a reply to a reply joins its thread.
            threadID = parent.parentID ?? parentID
        }
        let badge = try await badge(of: member, on: article)
        let thread = threadID
        // One member's posts are counted and written one at a time, so that posts sent at once
        // cannot all pass the limits.
        return try await database.writeTransaction { db in
            try await Self.takeTurn(of: memberID, on: db)
            let mine = Comment.query(on: db).filter(\.$memberID == memberID)
            let recent = try await mine.copy().filter(\.$createdAt > now.addingTimeInterval(-600)).all()
            let today = try await mine.copy().filter(\.$createdAt > now.addingTimeInterval(-86_400)).count()
            guard recent.count < Self.perTenMinutes, today < Self.perDay else { throw Refusal("comments_error_too_many", tooMany: true) }
            guard !recent.contains(where: { $0.body == body && $0.articleID == articleID && now.timeIntervalSince($0.createdAt) < 120 }) else {
                throw Refusal("comments_error_duplicate")
            }
            let trusted = try await mine.copy().filter(\.$status == .visible).count() > 0
            if !trusted && badge == nil, try await mine.copy().filter(\.$status == .pending).count() >= Self.waitingAtOnce {
                throw Refusal("comments_error_waiting", tooMany: true)
            }
            let comment = Comment()
            comment.articleID = articleID
            comment.parentID = thread
            comment.memberID = memberID
            comment.authorName = Self.shownName(of: member)
            comment.body = body
            comment.badge = badge
            comment.reports = 0
            comment.createdAt = now
            comment.status = badge != nil || (trusted && !holdsListedWord(body)) ? .visible : .pending
            try await comment.create(on: db)
            guard comment.status == .visible else { return (comment, .awaitingModeration) }
            try await CommentCounts.noteChange(on: db)
            return (comment, .visible)
        }
    }

    /// Waits for any other write of this member's comments to finish: a lock on the member's row
    /// on PostgreSQL (a SQLite write transaction already holds the database's one write lock).
    private static func takeTurn(of memberID: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT id FROM members WHERE id = \(bind: memberID) FOR UPDATE").run()
    }

    func edit(_ commentID: UUID, on article: Article, text: String, by member: Member, viewer: Viewer) async throws -> Comment {
        let comment = try await own(commentID, on: article, by: member)
        try await checkMayComment(on: article, member: member, viewer: viewer)
        guard comment.status == .visible || comment.status == .pending, now.timeIntervalSince(comment.createdAt) <= Self.editWindow else {
            throw Refusal("comments_error_edit_window")
        }
        comment.body = try validated(text)
        comment.editedAt = now
        // A first comment, approved as it was, goes back to the moderators once changed.
        let othersApproved = try await Comment.query(on: database).filter(\.$memberID == comment.memberID).filter(\.$status == .visible)
            .filter(\.$id != commentID).count() > 0
        let wasVisible = comment.status == .visible
        if comment.badge == nil && (holdsListedWord(comment.body) || !othersApproved) { comment.status = .pending }
        try await database.writeTransaction { db in
            try await comment.save(on: db)
            if wasVisible && comment.status != .visible { try await CommentCounts.noteChange(on: db) }
        }
        return comment
    }

    func delete(_ commentID: UUID, on article: Article, by member: Member) async throws {
        let comment = try await own(commentID, on: article, by: member)
        guard comment.status != .deleted else { return }
        let wasVisible = comment.status == .visible
        comment.status = .deleted
        comment.body = ""
        try await database.writeTransaction { db in
            try await comment.save(on: db)
            if wasVisible { try await CommentCounts.noteChange(on: db) }
        }
    }

    /// A reader's report: once per reader and comment, never of one's own, and only of what
    /// the reader may see.
    func report(_ commentID: UUID, on article: Article, by member: Member, viewer: Viewer) async throws {
        let memberID = try member.requireID()
        guard AccessPolicy.mayReadComments(on: article, viewer: viewer),
              let comment = try await Comment.find(commentID, on: database), comment.status == .visible, comment.articleID == article.id
        else { throw Refusal("comments_error_gone") }
        guard comment.memberID != memberID else { return }
        try await database.writeTransaction { db in
            guard try await CommentReport.query(on: db).filter(\.$commentID == commentID).filter(\.$memberID == memberID).first() == nil else { return }
            let report = CommentReport()
            report.commentID = commentID
            report.memberID = memberID
            report.createdAt = now
            do {
                try await report.create(on: db)
            } catch let error as any DatabaseError where error.isConstraintFailure {
                return
            }
            try await (db as! any SQLDatabase).update(Comment.schema)
                .set(SQLIdentifier("reports"), to: SQLBinaryExpression(SQLIdentifier("reports"), .add, SQLLiteral.numeric("1")))
                .where("id", .equal, commentID).run()
        }
    }

    /// Whether this member may write on this article now, or the reason they may not.
    func checkMayComment(on article: Article, member: Member, viewer: Viewer) async throws {
        guard CommentRules.areOpen(article, settings: settings) else { throw Refusal("comments_error_closed") }
        guard AccessPolicy.mayComment(on: article, viewer: viewer) else { throw Refusal("comments_error_not_entitled") }
        guard try await CommentBan.find(member.email, on: database) == nil else { throw Refusal("comments_error_banned") }
    }

    /// The name beside a comment: the member's, never any part of their address (an empty name
    /// is shown as "a member" in the reader's language).
    static func shownName(of member: Member) -> String {
        String(CommentRules.cleaned(member.name).trimmingCharacters(in: .whitespacesAndNewlines).prefix(80))
    }

    private func validated(_ text: String) throws -> String {
        let body = CommentRules.cleaned(text).replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw Refusal("comments_error_empty") }
        guard body.count <= Self.longestComment, body.utf8.count <= Self.longestComment * 8,
              !body.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" })
        else { throw Refusal("comments_error_too_long") }
        return body
    }

    private func own(_ commentID: UUID, on article: Article, by member: Member) async throws -> Comment {
        guard let comment = try await Comment.find(commentID, on: database), comment.memberID == (try member.requireID()),
              comment.articleID == article.id
        else {
            throw Refusal("comments_error_gone")
        }
        return comment
    }

    /// Staff who comment as members (by the same address) are marked; the article's own
    /// writer (who started it, or is named in its byline) as its author.
    private func badge(of member: Member, on article: Article) async throws -> Comment.Badge? {
        guard let staff = try await Staff.query(on: database).filter(\.$email == member.email).first() else { return nil }
        if article.createdBy == staff.id { return .author }
        let byline = try await ArticleAuthor.query(on: database).filter(\.$article.$id == article.requireID()).with(\.$author).all().map(\.author.name)
        return byline.contains(staff.name) ? .author : .staff
    }

    func holdsListedWord(_ text: String) -> Bool {
        CommentRules.holdsListedWord(text, words: settings.commentWords ?? [])
    }
}

/// Decisions about comments that do not depend on who asks.
enum CommentRules {
    /// Whether an article takes comments now: published, and open by its own choice or its kind's.
    static func areOpen(_ article: Article, settings: SiteSettingsValues) -> Bool {
        guard article.status == .published else { return false }
        switch article.comments {
        case .open: return true
        case .closed: return false
        case .byKind: return !(settings.commentsClosedKinds ?? []).contains(article.kind.rawValue)
        }
    }

    /// Whether the text holds one of the words, as a whole word, in any letter case, joiners
    /// or not.
    static func holdsListedWord(_ text: String, words: [String]) -> Bool {
        guard !words.isEmpty else { return false }
        let listed = Set(words.map { $0.lowercased() }.filter { !$0.isEmpty })
        let joinerless = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\u{200C}" && $0 != "\u{200D}" }))
        let found = joinerless.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "'" && $0 != "-" }
        return found.contains { listed.contains(String($0)) }
    }

    /// Text without the characters that reorder what follows it on the line (bidirectional
    /// overrides and isolates) or hide between letters (zero-width space, word joiner, byte
    /// order mark). The zero-width non-joiner stays: Persian spells with it.
    static func cleaned(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !hidden.contains($0.value) }))
    }

    private static let hidden: Set<UInt32> = [0x200B, 0x2060, 0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
}
