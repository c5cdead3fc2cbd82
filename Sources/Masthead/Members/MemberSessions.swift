import Fluent
import Foundation

/// Signed-in browsers. Each session is a random token in an HttpOnly cookie and a hashed row
/// here; signing out deletes the row, signing out everywhere deletes all of a member's rows.
/// Ending a session early bumps the session generation, so that every instance forgets what
/// it remembered of sessions (`Viewers`).
public struct MemberSessions: Sendable {
    public static let cookieName = "mh_session"
    static let generationKey = "session_generation"
    public static let lifetime: TimeInterval = 30 * 24 * 3600

    let database: any Database
    let now: Date

    func create(for member: Member) async throws -> String {
        let token = SecretToken.generate()
        try await MemberSession(
            tokenHash: SecretToken.digest(token), memberID: try member.requireID(),
            createdAt: now, expiresAt: now.addingTimeInterval(Self.lifetime)
        ).create(on: database)
        return token
    }

    /// The member a live session names, and when the session ends.
    func session(forToken token: String) async throws -> (member: Member, expiresAt: Date)? {
        guard let session = try await MemberSession.query(on: database)
            .filter(\.$tokenHash == SecretToken.digest(token))
            .filter(\.$expiresAt > now)
            .with(\.$member)
            .first()
        else { return nil }
        return (session.member, session.expiresAt)
    }

    func revoke(token: String) async throws {
        try await MemberSession.query(on: database).filter(\.$tokenHash == SecretToken.digest(token)).delete()
        try await SiteCounters.increment(Self.generationKey, on: database)
    }

    func revokeAll(memberID: UUID) async throws {
        try await MemberSession.query(on: database).filter(\.$member.$id == memberID).delete()
        try await SiteCounters.increment(Self.generationKey, on: database)
    }
}

/// Finding, creating and removing member accounts.
public struct MemberAccounts: Sendable {
    let database: any Database

    public func find(email: String) async throws -> Member? {
        try await Member.query(on: database).filter(\.$email == email).first()
    }

    /// The member with this address, created on first sign-in.
    func findOrCreate(email: String, name: String) async throws -> Member {
        if let member = try await find(email: email) { return member }
        let member = Member(email: email, name: name)
        member.paidUntil = try await Entitlements.complimentaryUntil(forNewAddress: email, on: database)
        do {
            try await database.writeTransaction { db in
                try await member.create(on: db)
                try await NewsletterSubscriptions(database: db, now: Date()).welcome(member)
            }
            return member
        } catch {
            // Two first sign-ins raced; the other one created the account.
            guard (error as? any DatabaseError)?.isConstraintFailure == true,
                  let member = try await find(email: email) else { throw error }
            return member
        }
    }

    /// Deletes the account and, by cascade, its sessions; unused links for it go too.
    func delete(_ member: Member) async throws {
        try await database.writeTransaction { db in
            try await LoginToken.query(on: db).filter(\.$email == member.email).delete()
            // Erasing an account erases its address from the lists too.
            try await NewsletterSubscription.query(on: db).filter(\.$email == member.email).delete()
            // Their comments go by cascade, and with them from the counts on the cards.
            if try await Comment.query(on: db).filter(\.$memberID == member.requireID()).filter(\.$status == .visible).count() > 0 {
                try await CommentCounts.noteChange(on: db)
            }
            try await member.delete(on: db)
            try await SiteCounters.increment(MemberSessions.generationKey, on: db)
        }
    }
}
