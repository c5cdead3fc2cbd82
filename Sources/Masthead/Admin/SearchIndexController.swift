import Fluent
import Foundation
import SQLKit
import Vapor

/// The search index in the admin: what it holds, a button that asks for a rebuild, and the
/// rebuild's progress (the page reloads itself while one is open), then the last few rebuilds.
struct SearchIndexController: Sendable {
    static let historyLength = 10

    let admin: AdminPages

    struct Rebuild {
        let requestedBy: String
        let requestedAt: String
        let status: String
        let articles: String
        let took: String?
        let failure: String?
    }

    struct OpenRebuild {
        let requestedBy: String
        let requestedAt: String
        let waiting: Bool
        let done: Int
        let total: Int
        let percent: Int
        let cancelAction: String
    }

    struct Figures {
        let published: Int
        let filed: Int
    }

    struct Page {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        /// Counting the index takes a moment on a large archive: left out while the page
        /// refreshes itself during a rebuild, whose own progress says more.
        let figures: Figures?
        let open: OpenRebuild?
        let rebuildAction: String
        let history: [Rebuild]
        let hasHistory: Bool
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.searchIndex) { try await show($0) }
        routes.post(AdminURL.Segment.searchIndex, AdminURL.Segment.rebuild) { try await rebuild($0) }
        routes.post(AdminURL.Segment.searchIndex, ":id", AdminURL.Segment.cancel) { try await cancel($0) }
    }

    func show(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.rebuildSearchIndex)
        let rebuilds = SearchRebuilds(database: req.db)
        let history = try await rebuilds.latest(Self.historyLength)
        let open = try await rebuilds.open()
        let ended = history.filter { !$0.isOpen }
        let notices = [
            "queued": "The rebuild is asked for: an instance that runs background jobs starts it within seconds.",
            "already": "A rebuild is already under way: its progress is below.",
            "cancelled": "The rebuild is cancelled. What it filed stays filed, and readers search the whole index as before.",
        ]
        let clock = admin.clock
        let response = try admin.render("admin/search-index", Page(
            layout: admin.layout("Search index", for: req, current: AdminURL.searchIndex),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { notices[$0] },
            figures: open == nil ? try await figures(on: req.db) : nil,
            open: try open.map { open in
                OpenRebuild(
                    requestedBy: open.requestedBy, requestedAt: clock.dayAndTime(open.requestedAt), waiting: open.status == .queued,
                    done: open.done, total: open.total, percent: open.total == 0 ? 0 : min(100, open.done * 100 / open.total),
                    cancelAction: AdminURL.cancelSearchRebuild(try open.requireID())
                )
            },
            rebuildAction: AdminURL.rebuildSearchIndex,
            history: ended.map { rebuild in
                Rebuild(
                    requestedBy: rebuild.requestedBy, requestedAt: clock.dayAndTime(rebuild.requestedAt), status: rebuild.status.rawValue,
                    articles: "\(rebuild.done)",
                    took: rebuild.startedAt.flatMap { started in rebuild.finishedAt.map { Self.duration($0.timeIntervalSince(started)) } },
                    failure: rebuild.failure
                )
            },
            hasHistory: !ended.isEmpty
        ))
        // While a rebuild is open, the page reloads itself: progress without script.
        if let open { response.headers.replaceOrAdd(name: "Refresh", value: open.status == .queued ? "10" : "3") }
        return response
    }

    private func figures(on db: any Database) async throws -> Figures {
        let filed = try await (db as! any SQLDatabase).raw("SELECT count(DISTINCT article_id) AS total FROM search_documents").first()
        return Figures(published: try await Article.query(on: db).filter(\.$status == .published).count(), filed: try SearchSQL.total(filed))
    }

    func rebuild(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.rebuildSearchIndex)
        let done: String
        switch try await SearchRebuilds(database: req.db).request(by: staff.email) {
        case .queued:
            try await AuditLog(database: req.db, now: Date()).record(staff.email, "asked for a search index rebuild", "")
            done = "queued"
        case .alreadyOpen:
            done = "already"
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.searchIndex, done), redirectType: .normal)
    }

    func cancel(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.rebuildSearchIndex)
        guard let id = req.parameters.get("id", as: UUID.self) else { throw SiteError.notFound }
        guard try await SearchRebuilds(database: req.db).cancel(id) else {
            return req.redirect(to: AdminURL.searchIndex, redirectType: .normal)
        }
        try await AuditLog(database: req.db, now: Date()).record(staff.email, "cancelled a search index rebuild", "")
        return req.redirect(to: AdminURL.withNotice(AdminURL.searchIndex, "cancelled"), redirectType: .normal)
    }

    private static func duration(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds.rounded())
        return whole < 60 ? "\(whole) s" : "\(whole / 60) min \(whole % 60) s"
    }
}
