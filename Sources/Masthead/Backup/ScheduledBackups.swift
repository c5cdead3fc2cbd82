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
        // Asked for: the run that takes the lease clears the request, so no clocks are compared.
        if state?.requestedAt != nil { return true }
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
        let status = RunningStatus("copying the database")
        let folder = newFolder(at: now)
        let work = Task {
            try await SiteBackup.take(app, settings: settings, into: folder, now: now) { step in
                switch step {
                case .database: status.set("copying the database")
                case .media(let done, let total): status.set("copying media files: \(done) of \(total)")
                }
            }
        }
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if Task.isCancelled { break }
                // Another instance took the lease (this one stalled past it): it backs up instead.
                if (try? await lease.renew(holder, for: Self.leaseLength, status: status.text)) == false {
                    work.cancel()
                    break
                }
            }
        }
        return try await alongside(heartbeat) {
            do {
                let summary = try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
                let removed = prune(logger: app.logger)
                try await lease.end(holder, finished: true, outcome: "backed up to \(summary.folder)" + (removed.isEmpty ? "" : "; removed \(removed.count) older"))
                app.logger.notice("backup.taken", metadata: ["folder": "\(summary.folder)", "bytes": "\(summary.bytes)", "removed": "\(removed.count)"])
                return summary
            } catch {
                let reason = (error as? BackupError)?.description ?? String(String(describing: error).prefix(300))
                try? await lease.end(holder, finished: false, outcome: "failed: \(reason)")
                throw error
            }
        }
    }

    /// The dated folder for a backup begun at `now`. One asked for by an admin in the same second
    /// as the last finished gets a numbered name beside it, rather than failing on a taken name.
    private func newFolder(at now: Date) -> String {
        let dated = (schedule.folder as NSString).appendingPathComponent(Self.folderName(at: now))
        var folder = dated, number = 1
        while FileManager.default.fileExists(atPath: folder) {
            number += 1
            folder = dated + "-\(number)"
        }
        return folder
    }

    static func folderName(at date: Date) -> String {
        folderPrefix + date.formatted(Date.VerbatimFormatStyle(
            format: "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)T\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased))-\(minute: .twoDigits)-\(second: .twoDigits)Z",
            timeZone: .gmt, calendar: Calendar(identifier: .gregorian)
        ))
    }

    /// The finished backups in the folder (those with a manifest this Masthead reads), newest first.
    func list() -> [Listed] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: schedule.folder)) ?? []
        return names.filter { $0.hasPrefix(Self.folderPrefix) }.compactMap { name in
            guard let manifest = try? BackupManifest.read(from: (schedule.folder as NSString).appendingPathComponent(name)) else { return nil }
            return Listed(name: name, takenAt: manifest.createdAt, bytes: manifest.files.reduce(0) { $0 + $1.bytes }, mediaFiles: manifest.mediaFiles.count)
        }.sorted { $0.takenAt > $1.takenAt }
    }

    /// Removes finished backups beyond the newest `keep` (never a folder it cannot read as one),
    /// and the remains of backups killed part way (hidden `.partial-` folders) once a day old.
    /// A folder that cannot be removed is logged and left: the new backup stands either way.
    func prune(now: Date = Date(), logger: Logger) -> [String] {
        let files = FileManager.default
        var removed: [String] = []
        for backup in list().dropFirst(schedule.keep) {
            do {
                try files.removeItem(atPath: (schedule.folder as NSString).appendingPathComponent(backup.name))
                removed.append(backup.name)
            } catch {
                logger.warning("backup.prune_failed", metadata: ["folder": "\(backup.name)", "error": "\(error.localizedDescription)"])
            }
        }
        for name in (try? files.contentsOfDirectory(atPath: schedule.folder)) ?? [] where name.hasPrefix("." + Self.folderPrefix) && name.contains(".partial-") {
            let path = (schedule.folder as NSString).appendingPathComponent(name)
            if let modified = try? files.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < now.addingTimeInterval(-86_400) {
                try? files.removeItem(atPath: path)
            }
        }
        return removed
    }
}

/// What a running backup is doing, for the lease's heartbeat to report.
private final class RunningStatus: Sendable {
    private let current: Mutex<String>

    init(_ text: String) { current = Mutex(text) }

    func set(_ text: String) { current.withLock { $0 = text } }

    var text: String { current.withLock { $0 } }
}
