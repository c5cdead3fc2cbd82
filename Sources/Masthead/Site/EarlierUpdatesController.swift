import Fluent
import Foundation
import Vapor

/// A live story's earlier updates (`GET /live/<article id>/updates?before=<number>`), a page at
/// a time, for a story covered longer than its page shows. Decided like the story's page: a
/// reader who may not read the story is sent to it (its summary and the call to join) and gets
/// no update. Made for one reader and never cached, like the event stream beside it.
struct EarlierUpdatesController: Sendable {
    let pages: SitePages

    func register(on routes: any RoutesBuilder) {
        routes.get(.constant(SiteURL.live), ":article", .constant(SiteURL.liveOlder)) { try await page($0) }
    }

    func page(_ req: Request) async throws -> Response {
        let (article, story) = try await LiveStory.published(at: req)
        let id = try article.requireID()
        let edition = pages.theme.editions[article.edition] ?? pages.theme.editions.defaultEdition
        let articleURL = SiteURL(edition: edition).article(article.slug)
        guard case .full(let grant) = AccessPolicy.decide(article: article, viewer: req.viewer, meter: .none) else {
            return req.redirect(to: articleURL, redirectType: .normal)
        }
        let before = req.query[String.self, at: "before"].flatMap { Int64($0) }.map { max($0, 1) }
        let found = try await LiveUpdates.page(grant, story: story, before: before, limit: LiveCoverage.pageSize, on: req.db)
        let dates = EditionDates(edition: edition)
        let title = edition.text("live_older_title", ["title": article.title])
        return try pages.personalResponse("live-updates", EarlierUpdatesPage(
            layout: pages.personalLayout(edition: edition, title: title, access: req.viewer.accessLevel),
            pageTitle: title, articleURL: articleURL, latestLabel: edition.text("live_latest"),
            updates: found.updates.map { LiveCoverageModel.Update($0, dates: dates) },
            hasUpdates: !found.updates.isEmpty,
            hasOlder: found.hasOlder,
            olderURL: SiteURL.liveOlder(id, before: found.updates.last?.sequence ?? 1)
        ))
    }
}

struct EarlierUpdatesPage {
    let layout: LayoutModel
    let pageTitle: String
    let articleURL: String
    let latestLabel: String
    let updates: [LiveCoverageModel.Update]
    let hasUpdates: Bool
    let hasOlder: Bool
    let olderURL: String
}
