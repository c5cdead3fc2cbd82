import Foundation
import Vapor

/// The audit log: who did what in the admin, newest first.
struct AuditController: Sendable {
    static let pageSize = 100

    let admin: AdminPages

    struct Row {
        let date: String
        let who: String
        let action: String
        let subject: String
    }

    struct Page {
        let layout: AdminPages.Layout
        let rows: [Row]
        let newerURL: String?
        let olderURL: String?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.audit) { try await list($0) }
    }

    func list(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.viewAuditLog)
        let page = max(1, min(req.query[Int.self, at: "page"] ?? 1, 10_000))
        let events = try await AuditLog(database: req.db, now: Date()).recent(limit: Self.pageSize + 1, offset: (page - 1) * Self.pageSize)
        let dates = admin.clock
        return try admin.render("admin/audit", Page(
            layout: admin.layout("Audit log", for: req, current: AdminURL.audit),
            rows: events.prefix(Self.pageSize).map { Row(date: dates.dayAndTime($0.createdAt), who: $0.staffEmail, action: $0.action, subject: $0.subject) },
            newerURL: page > 1 ? AdminURL.audit(page: page - 1) : nil,
            olderURL: events.count > Self.pageSize ? AdminURL.audit(page: page + 1) : nil
        ))
    }
}
