import Fluent
import Foundation
import Vapor

/// Who is asking, worked out once per request from the session cookie. Requests without the
/// cookie never touch the database, which keeps anonymous page views on the cache's fast path.
struct ViewerMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard let token = request.cookies[MemberSessions.cookieName]?.string, !token.isEmpty, token.count < 100 else {
            return next.respond(to: request)
        }
        return request.eventLoop.makeFutureWithTask {
            let now = Date()
            if let member = try await MemberSessions(database: request.db, now: now).member(forToken: token) {
                request.storage[ViewerKey.self] = .init(member: member, sessionToken: token, viewer: member.viewer(at: now))
            }
        }.flatMap {
            next.respond(to: request)
        }
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
}
