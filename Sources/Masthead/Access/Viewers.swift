import Fluent
import Foundation
import NIOHTTP1
import Synchronization

/// Who is reading: the one place that works it out, for the front server's fast path and for
/// the routes alike. No session cookie is an anonymous reader; a session cookie names a member,
/// whose access level is kept in memory for a few seconds after the database last confirmed it,
/// so a signed-in reader's cached page is served without a query.
///
/// The memory is emptied for a session when it signs out here, and on every instance when the
/// session generation moves (any early end of a session bumps it, see `MemberSessions`; so
/// must a change of plan, when billing makes one).
final class Viewers: Sendable {
    /// How long the database's word on a session is taken without asking again.
    static let confirmedFor: TimeInterval = 15

    private struct Confirmed: Sendable {
        let viewer: Viewer
        let validUntil: Date
    }

    private let confirmed = Mutex<RecentlyUsed<String, Confirmed>>(RecentlyUsed(capacity: 100_000))
    /// Moves on every forgetting, so that a confirmation read from the database before a
    /// sign-out is not stored after it.
    private let epoch = Atomic<Int>(0)

    /// The session token a `Cookie` header carries, if any.
    static func sessionToken(in cookieHeaders: [String]) -> String? {
        for header in cookieHeaders {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.hasPrefix(MemberSessions.cookieName + "=") else { continue }
                let value = trimmed.dropFirst(MemberSessions.cookieName.count + 1)
                return value.isEmpty || value.count >= 100 ? nil : String(value)
            }
        }
        return nil
    }

    /// The viewer as far as memory knows, for the fast path: nil when only the database can say.
    func knownViewer(_ headers: HTTPHeaders) -> Viewer? {
        guard let token = Self.sessionToken(in: headers[.cookie]) else { return .anonymous }
        let digest = SecretToken.digest(token)
        guard let session = confirmed.withLock({ $0.value(for: digest) }), session.validUntil > Date() else { return nil }
        return session.viewer
    }

    /// The signed-in member a session token names, from the database, remembered for the fast path.
    func member(forToken token: String, database: any Database, now: Date) async throws -> SignedInViewer? {
        let epochAtStart = epoch.load(ordering: .acquiring)
        guard let (member, expiresAt) = try await MemberSessions(database: database, now: now).session(forToken: token) else {
            return nil
        }
        let viewer = member.viewer(at: now)
        var validUntil = min(now.addingTimeInterval(Self.confirmedFor), expiresAt)
        if viewer == .paidMember, let paidUntil = member.paidUntil { validUntil = min(validUntil, paidUntil) }
        let session = Confirmed(viewer: viewer, validUntil: validUntil)
        confirmed.withLock { sessions in
            if epoch.load(ordering: .acquiring) == epochAtStart { sessions.insert(session, for: SecretToken.digest(token)) }
        }
        return SignedInViewer(member: member, sessionToken: token, viewer: viewer)
    }

    func forget(token: String) {
        confirmed.withLock { sessions in
            epoch.add(1, ordering: .releasing)
            sessions.removeValue(for: SecretToken.digest(token))
        }
    }

    /// Every session: another instance ended one, or a member's plan changed.
    func forgetAll() {
        confirmed.withLock { sessions in
            epoch.add(1, ordering: .releasing)
            sessions.removeAll()
        }
    }
}

/// A reader signed in as a member, as the routes see them.
struct SignedInViewer: Sendable {
    let member: Member
    let sessionToken: String
    let viewer: Viewer
}
