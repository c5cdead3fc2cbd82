import Fluent
import Foundation
import Vapor

/// Who is asking, worked out once per request by `Viewers` from the session cookie. Requests
/// without the cookie never touch the database.
struct ViewerMiddleware: Middleware {
    let viewers: Viewers

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard let token = Viewers.sessionToken(in: request.headers[.cookie]) else {
            return next.respond(to: request)
        }
        return request.eventLoop.makeFutureWithTask {
            if let signedIn = try await viewers.member(forToken: token, database: request.db, now: Date()) {
                request.storage[ViewerKey.self] = signedIn
            }
        }.flatMap {
            next.respond(to: request)
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
