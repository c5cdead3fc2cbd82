import Fluent
import Foundation
import Vapor

/// A live story's event stream (`GET /live/<article id>/events`): the story's new, edited,
/// pinned and removed updates as server-sent events, for readers who may read the story.
/// Anyone else gets 204 No Content, which tells a browser's EventSource not to come back,
/// and no byte of the story.
struct LiveEventsController: Sendable {
    let hub: LiveHub
    let pages: SitePages

    func register(on routes: any RoutesBuilder) {
        routes.get(.constant(SiteURL.live), ":article", .constant(SiteURL.liveEvents)) { try await events($0) }
    }

    func events(_ req: Request) async throws -> Response {
        let (article, story) = try await LiveStory.published(at: req)
        // The meter opens a page, not a stream: a metered reader reloads to see more. Closed
        // coverage has nothing more to send.
        guard story.isLive, case .full(let grant) = AccessPolicy.decide(article: article, viewer: req.viewer, meter: .none) else {
            return Self.nothing(.noContent)
        }
        guard req.method == .GET else { return Response.eventStream(AsyncStream { $0.finish() }) }
        let after = Self.lastSeen(req) ?? story.version
        let edition = pages.theme.editions[article.edition] ?? pages.theme.editions.defaultEdition
        let pages = self.pages
        do {
            let events = try await hub.subscribe(grant, story: story, visibility: article.visibility, after: after, client: req.clientAddress) { update in
                try pages.liveUpdateFragment(update, edition: edition)
            }
            return .eventStream(events)
        } catch LiveHub.Refusal.tooManyStreams {
            // The page still works; its reload link brings the latest updates.
            let response = Self.nothing(.tooManyRequests)
            response.headers.add(name: .retryAfter, value: "60")
            return response
        }
    }

    private static func nothing(_ status: HTTPResponseStatus) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers)
    }

    /// The last change the reader has: what a reconnecting browser sends, else what the page said.
    private static func lastSeen(_ req: Request) -> Int64? {
        let given = req.headers.first(name: "Last-Event-ID") ?? req.query[String.self, at: "after"]
        return given.flatMap { Int64($0) }.map { max($0, 0) }
    }
}

extension LiveStory {
    /// The published article a live story's address names by id (`/live/<article id>/…`) and
    /// its coverage; a 404 for anything else, drafts and scheduled articles included.
    static func published(at req: Request) async throws -> (Article, LiveStory) {
        guard let id = req.parameters.get("article", as: UUID.self),
              let article = try await Article.query(on: req.db).filter(\.$id == id).filter(\.$status == .published)
                .filter(\.$publishedAt <= Date()).first(),
              let story = try await LiveStory.find(id, on: req.db)
        else { throw SiteError.notFound }
        return (article, story)
    }
}
