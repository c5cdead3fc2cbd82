import Foundation
import Vapor

/// Scheduled backups in the admin: the schedule, what a running backup is doing (the page
/// reloads itself meanwhile), how the last one ended, a button for one now, and the backups kept.
struct BackupsController: Sendable {
    let admin: AdminPages
    let settings: Settings

    struct Kept {
        let name: String
        let takenAt: String
        let size: String
        let mediaFiles: Int
    }

    struct Page {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let folder: String?
        let everyHours: Int
        let keep: Int
        let running: String?
        let requestedBy: String?
        let lastOutcome: String?
        let lastFinished: String?
        let backUpAction: String
        let kept: [Kept]
        let hasKept: Bool
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.backups) { try await show($0) }
        routes.post(AdminURL.Segment.backups, AdminURL.Segment.now) { try await backUpNow($0) }
    }

    func show(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.manageBackups)
        let schedule = settings.scheduledBackups
        let backups = schedule.map { ScheduledBackups(settings: settings, schedule: $0) }
        let state = try await JobLease(database: req.db, name: ScheduledBackups.jobName).state()
        let now = Date()
        let running = state.flatMap { $0.isRunning(at: now) ? $0.status : nil }
        let requestedBy = running == nil ? state.flatMap { $0.requestedAt == nil ? nil : $0.requestedBy } : nil
        let clock = admin.clock
        let kept = (backups?.list() ?? []).map {
            Kept(name: $0.name, takenAt: clock.dayAndTime($0.takenAt), size: ByteCountFormatter.string(fromByteCount: $0.bytes, countStyle: .file), mediaFiles: $0.mediaFiles)
        }
        let response = try admin.render("admin/backups", Page(
            layout: admin.layout("Backups", for: req, current: AdminURL.backups),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"] == "requested" ? "A backup is asked for: an instance that runs background jobs starts it within seconds." : nil,
            folder: schedule?.folder, everyHours: schedule?.everyHours ?? 0, keep: schedule?.keep ?? 0,
            running: running, requestedBy: requestedBy,
            lastOutcome: state?.outcome, lastFinished: state?.finishedAt.map(clock.dayAndTime),
            backUpAction: AdminURL.backUpNow, kept: kept, hasKept: !kept.isEmpty
        ))
        // While a backup runs or waits to, the page reloads itself: progress without script.
        if running != nil || requestedBy != nil { response.headers.replaceOrAdd(name: "Refresh", value: "3") }
        return response
    }

    func backUpNow(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.manageBackups)
        // Without a folder there is nowhere to back up to; the page says how to set one.
        guard settings.scheduledBackups != nil else { return req.redirect(to: AdminURL.backups, redirectType: .normal) }
        try await JobLease(database: req.db, name: ScheduledBackups.jobName).request(by: staff.email)
        try await AuditLog(database: req.db, now: Date()).record(staff.email, "asked for a backup", "")
        return req.redirect(to: AdminURL.withNotice(AdminURL.backups, "requested"), redirectType: .normal)
    }
}
