import Foundation
import Vapor

/// Where a reader's browser turns breaking-news alerts on and off, and the service worker that
/// shows them. The forms are posted by the site's own script from cached pages, which carry
/// no per-reader token, so they rely on the `Origin` check (`FormProtection.originOnly`).
struct PushController: Sendable {
    let theme: Theme
    let settings: Settings

    static let subscriptions = "/push/subscriptions"
    static let unsubscribe = "/push/unsubscribe"
    static let worker = "/push-worker.js"

    struct SubscribeBody: Content {
        struct Keys: Content {
            var p256dh: String
            var auth: String
        }
        var endpoint: String
        var keys: Keys
        var edition: String?
    }

    struct UnsubscribeBody: Content {
        var endpoint: String
    }

    func register(on routes: any RoutesBuilder) {
        let small = HTTPBodyStreamStrategy.collect(maxSize: "8kb")
        routes.on(.POST, Self.subscriptions.pathComponents, body: small) { try await subscribe($0) }
        routes.on(.POST, Self.unsubscribe.pathComponents, body: small) { try await unsubscribe($0) }
        routes.on(.GET, Self.worker.pathComponents) { try worker($0) }
    }

    func subscribe(_ req: Request) async throws -> Response {
        guard let body = try? req.content.decode(SubscribeBody.self) else {
            return Self.problem(.badRequest, "send the browser's push subscription as JSON: endpoint and keys")
        }
        let edition = body.edition.flatMap { theme.editions[$0] } ?? theme.editions.defaultEdition
        do {
            try await PushSubscriptions(database: req.db, services: settings.pushServices, now: Date()).subscribe(
                endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth, edition: edition.code,
                memberID: req.signedIn?.member.id, clientAddress: req.clientAddress
            )
        } catch let problem as PushSubscriptions.Problem {
            return Self.problem(problem.tooMany ? .tooManyRequests : .unprocessableEntity, problem.description)
        }
        return Response(status: .created)
    }

    func unsubscribe(_ req: Request) async throws -> Response {
        guard let body = try? req.content.decode(UnsubscribeBody.self) else {
            return Self.problem(.badRequest, "send the subscription's endpoint as JSON")
        }
        try await PushSubscriptions(database: req.db, services: settings.pushServices, now: Date()).unsubscribe(endpoint: body.endpoint)
        return Response(status: .noContent)
    }

    /// The service worker, at the root so that its scope is the whole site; never cached for
    /// long, so that browsers pick up a new version.
    func worker(_ req: Request) throws -> Response {
        guard let body = theme.assetPath("push-worker.js").split(separator: "/").last.flatMap({ theme.assets[String($0)] }) else {
            throw SiteError.notFound
        }
        return body.response(to: req, cacheControl: "no-cache")
    }

    private static func problem(_ status: HTTPResponseStatus, _ message: String) -> Response {
        let response = Response(status: status)
        try? response.content.encode(["error": message])
        return response
    }
}
