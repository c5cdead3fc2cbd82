import Fluent
import Foundation
import Vapor

/// Who is asking, worked out once per request by `Viewers` from the session cookie. Requests
/// without the cookie never touch the database.
struct ViewerMiddleware: Middleware {
    let viewers: Viewers
    let settings: Settings

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard let token = Viewers.sessionToken(in: request.headers[.cookie]) else {
            return next.respond(to: request)
        }
        return request.eventLoop.makeFutureWithTask {
            try await viewers.member(forToken: token, database: request.db, now: Date())
        }.flatMap { signedIn in
            guard let signedIn else {
                // A session that ended (signed out elsewhere, expired): the browser forgets it too,
                // rather than asking the database about it on every page.
                return next.respond(to: request).map { [settings] response in
                    response.cookies[MemberSessions.cookieName] = settings.cookie("", for: request, maxAge: 0)
                    return response
                }
            }
            request.storage[ViewerKey.self] = signedIn
            return next.respond(to: request)
        }
    }
}

private struct ViewerKey: StorageKey {
    typealias Value = SignedInViewer
}

extension Request {
    /// The signed-in member, if any.
    var signedIn: SignedInViewer? { storage[ViewerKey.self] }

    var viewer: Viewer { signedIn?.viewer ?? .anonymous }
}
