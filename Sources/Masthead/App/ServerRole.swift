/// What one `masthead serve` process does, so that a site can run several instances that
/// serve readers and one or more that do the background work (`MASTHEAD_ROLE`, `--role`).
public enum ServerRole: String, Sendable, CaseIterable {
    /// Serves readers and staff; runs no background jobs.
    case web
    /// Runs the background jobs (mail, newsletters, scheduled publishing, alerts, backups,
    /// search rebuilds) and listens for nobody.
    case worker
    /// Both: one process for the whole site.
    case all
}
