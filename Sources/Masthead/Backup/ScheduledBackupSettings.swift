import Foundation

/// `MASTHEAD_BACKUP_DIR`, `MASTHEAD_BACKUP_EVERY_HOURS` (default 24) and `MASTHEAD_BACKUP_KEEP`
/// (default 7): a backup into a new dated folder under `folder` every so many hours, the
/// newest `keep` kept.
public struct ScheduledBackupSettings: Sendable, Equatable {
    public var folder: String
    public var everyHours: Int
    public var keep: Int

    public init(folder: String, everyHours: Int = 24, keep: Int = 7) {
        self.folder = folder
        self.everyHours = everyHours
        self.keep = keep
    }

    var interval: TimeInterval { TimeInterval(everyHours) * 3600 }
}
