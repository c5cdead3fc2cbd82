import Fluent
import Foundation
import Logging
import Synchronization
import Vapor

/// Backups taken by the background jobs into dated folders under `MASTHEAD_BACKUP_DIR`, on one
/// instance at a time (`JobLease`), every so many hours or when an admin asks, the newest few
/// kept. What a running backup is doing is written to the lease for the admin's Backups page.
struct ScheduledBackups: Sendable {
    static let jobName = "backup"
    static let folderPrefix = "masthead-"
    /// After a failed backup, the next try waits this long rather than the whole interval.
    static let retryAfter: TimeInterval = 15 * 60
    static let leaseLength: TimeInterval = 60

    let settings: Settings
    let schedule: ScheduledBackupSettings

    struct Listed {
        let name: String
        let takenAt: Date
        let bytes: Int64
        let mediaFiles: Int
    }

    func jobLease(on database: any Database) -> JobLease { JobLease(database: database, name: Self.jobName) }

    func isDue(_ state: JobLease.State?, at now: Date) -> Bool {
        if let requested = state?.requestedAt, requested > (state?.startedAt ?? .distantPast) { return true }
        let nextByPlan = (state?.finishedAt ?? .distantPast).addingTimeInterval(schedule.interval)
        let nextTry = (state?.startedAt ?? .distantPast).addingTimeInterval(Self.retryAfter)
        return now >= nextByPlan && now >= nextTry
    }

    /// Takes a backup if one is due and no other instance is taking it; the backup's summary,
    /// or nil if none was due.
    @discardableResult
    func runIfDue(_ app: Application, now: Date = Date()) async throws -> SiteBackup.Summary? {
        let lease = jobLease(on: app.db)
        guard isDue(try await lease.state(), at: now), let holder = try await lease.take(for: Self.leaseLength, status: "starting", now: now) else { return nil }
        let status = Mutex("copying the database")
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if Task.isCancelled { break }
                _ = try? await lease.renew(holder, for: Self.leaseLength, status: status.withLock { $0 })
            }
        }
        defer { heartbeat.cancel() }
        let folder = (schedule.folder as NSString).appendingPathComponent(Self.folderName(at: now))
        do {
            let summary = try await SiteBackup.take(app, settings: settings, into: folder, now: now) { step in
                switch step {
                case .database: status.withLock { $0 = "copying the database" }
                case .media(let done, let total): status.withLock { $0 = "copying media files: \(done) of \(total)" }
                }
            }
            let removed = try prune()
            try await lease.end(holder, finished: true, outcome: "backed up to \(summary.folder)" + (removed.isEmpty ? "" : "; removed \(removed.count) older"))
            app.logger.notice("backup.taken", metadata: ["folder": "\(summary.folder)", "bytes": "\(summary.bytes)", "removed": "\(removed.count)"])
            return summary
        } catch {
            let reason = (error as? BackupError)?.description ?? String(String(describing: error).prefix(300))
            try? await lease.end(holder, finished: false, outcome: "failed: \(reason)")
            throw error
        }
    }

    static func folderName(at date: Date) -> String {
        folderPrefix + date.formatted(Date.VerbatimFormatStyle(
            format: "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)T\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased))-\(minute: .twoDigits)-\(second: .twoDigits)Z",
            timeZone: .gmt, calendar: Calendar(identifier: .gregorian)
        ))
    }

    /// The finished backups in the folder, newest first.
    func list() -> [Listed] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: schedule.folder)) ?? []
        return names.filter { $0.hasPrefix(Self.folderPrefix) }.sorted(by: >).compactMap { name in
            guard let manifest = try? BackupManifest.read(from: (schedule.folder as NSString).appendingPathComponent(name)) else { return nil }
            return Listed(name: name, takenAt: manifest.createdAt, bytes: manifest.files.reduce(0) { $0 + $1.bytes }, mediaFiles: manifest.mediaFiles.count)
        }
    }

    /// Removes finished backups beyond the newest `keep`, and the remains of backups that were
    /// killed part way (hidden `.partial-` folders) once they are a day old.
    func prune(now: Date = Date()) throws -> [String] {
        let files = FileManager.default
        let kept = list().prefix(schedule.keep).map(\.name)
        var removed: [String] = []
        for name in (try? files.contentsOfDirectory(atPath: schedule.folder)) ?? [] {
            let path = (schedule.folder as NSString).appendingPathComponent(name)
            if name.hasPrefix(Self.folderPrefix), !kept.contains(name), files.fileExists(atPath: (path as NSString).appendingPathComponent(BackupManifest.fileName)) {
                try files.removeItem(atPath: path)
                removed.append(name)
            } else if name.hasPrefix("." + Self.folderPrefix), name.contains(".partial-"),
                      let modified = try? files.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < now.addingTimeInterval(-86_400) {
                try files.removeItem(atPath: path)
            }
        }
        return removed
    }
}
