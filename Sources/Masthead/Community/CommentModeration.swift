import Fluent
import Foundation

/// What moderators do with comments: approve those held for them, hide and restore, delete,
/// clear reports, bar a member from commenting and lift it, open or close an article's comments
/// and set the defaults. Every step is audited.
struct CommentModeration: Sendable {
    let database: any Database
    let now: Date

    enum Action: String, CaseIterable, Sendable {
        case approve, hide, restore, delete, dismiss
    }

    func apply(_ action: Action, to commentID: UUID, by staff: Staff) async throws {
        try requireModerator(staff)
        guard let comment = try await Comment.find(commentID, on: database) else { throw SiteError.notFound }
        let wasVisible = comment.status == .visible
        switch action {
        case .approve, .restore:
            guard comment.status == .pending || comment.status == .hidden else { return }
            comment.status = .visible
        case .hide:
            guard comment.status != .deleted else { return }
            comment.status = .hidden
        case .delete:
            comment.status = .deleted
            comment.body = ""
        case .dismiss:
            comment.reports = 0
        }
        try await database.writeTransaction { db in
            try await comment.save(on: db)
            if wasVisible != (comment.status == .visible) { try await CommentCounts.noteChange(on: db) }
            if action == .dismiss { try await CommentReport.query(on: db).filter(\.$commentID == commentID).delete() }
            try await AuditLog(database: db, now: now).record(staff.email, "\(action.rawValue) comment", "\(comment.authorName): \(commentID.uuidString.lowercased())")
        }
    }

    func ban(_ memberID: UUID, by staff: Staff) async throws {
        try requireModerator(staff)
        guard let member = try await Member.find(memberID, on: database) else { throw SiteError.notFound }
        try await database.writeTransaction { db in
            guard try await CommentBan.find(member.email, on: db) == nil else { return }
            let ban = CommentBan()
            ban.id = member.email
            ban.bannedBy = staff.email
            ban.createdAt = now
            try await ban.create(on: db)
            // What they left waiting for a moderator goes with them.
            try await Comment.query(on: db).filter(\.$memberID == memberID).filter(\.$status == .pending).set(\.$status, to: .hidden).update()
            try await AuditLog(database: db, now: now).record(staff.email, "barred from commenting", member.email)
        }
    }

    func unban(_ memberID: UUID, by staff: Staff) async throws {
        try requireModerator(staff)
        guard let member = try await Member.find(memberID, on: database) else { throw SiteError.notFound }
        try await database.writeTransaction { db in
            try await CommentBan.query(on: db).filter(\.$id == member.email).delete()
            try await AuditLog(database: db, now: now).record(staff.email, "allowed to comment again", member.email)
        }
    }

    func setChoice(_ choice: CommentsChoice, for article: Article, by staff: Staff) async throws {
        try requireModerator(staff)
        article.comments = choice
        try await database.writeTransaction { db in
            try await article.save(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "set comments \(choice.rawValue)", "\(article.edition)/\(article.slug)")
            try await ContentGeneration.bump(on: db, purging: try await .articles([try article.requireID()], on: db))
        }
    }

    /// The kinds whose comments are closed by default, and the words that hold a comment.
    func saveDefaults(closedKinds: [ArticleKind], words: [String], by staff: Staff, settings: LiveSiteSettings) async throws {
        try requireModerator(staff)
        let cleaned = Array(Set(words.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }.filter { !$0.isEmpty && $0.count <= 60 })).sorted()
        guard cleaned.count <= 2_000 else { throw EditorialError.invalid(["words": "Keep the word list under 2,000 words."]) }
        try await database.writeTransaction { db in
            var values = try await SiteSettingsStore.load(on: db)
            values.commentsClosedKinds = closedKinds.map(\.rawValue)
            values.commentWords = cleaned
            try await SiteSettingsStore.save(values, on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "changed comment settings", "\(closedKinds.count) kinds closed, \(cleaned.count) words")
            try await ContentGeneration.bump(on: db, purging: .everything)
        }
        settings.adopt(try await SiteSettingsStore.load(on: database))
    }

    private func requireModerator(_ staff: Staff) throws {
        guard StaffPolicy.may(staff.role, .moderateComments) else { throw EditorialError.forbidden }
    }
}
