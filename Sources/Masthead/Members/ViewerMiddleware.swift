import Fluent
import Foundation
import Vapor

/// Who is asking, worked out once per request from the session cookie. Requests without the
/// cookie never touch the database, which keeps anonymous page views on the cache's fast path.
struct ViewerMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let token = request.cookies[MemberSessions.cookieName]?.string, !token.isEmpty, token.count < 100 {
            let now = Date()
            if let member = try await MemberSessions(database: request.db, now: now).member(forToken: token) {
                request.storage[ViewerKey.self] = .init(member: member, sessionToken: token, viewer: member.viewer(at: now))
            }
        }
        return try await next.respond(to: request)
    }
}

struct SignedInViewer: Sendable {
    let member: Member
    let sessionToken: String
    let viewer: Viewer
}

private struct ViewerKey: StorageKey {
    typealias Value = SignedInViewer
}

extension Request {
    /// The signed-in member, if any.
    var signedIn: SignedInViewer? { storage[ViewerKey.self] }

    var viewer: Viewer { signedIn?.viewer ?? .anonymous }

    /// The client's address for rate limits. Behind a proxy, the proxy's address unless the
    /// deployment terminates at Masthead; X-Forwarded-For is not trusted, as anyone can send it.
    var clientAddress: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}
