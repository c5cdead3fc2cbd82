import Fluent
import Synchronization
import Vapor

/// Keeps this instance's page caches and site settings in step with the content generation in
/// the database, so that a publish or a settings change on any instance (or by the CLI) reaches
/// every instance within one interval; and its memory of sessions with the session generation,
/// so a sign-out anywhere is honoured everywhere as quickly. When a breaking-news banner's time
/// is up, the first instance to notice raises the generation for all; and likewise, at most once
/// every `commentCountsInterval`, when the comments readers see have changed (`CommentCounts`).
///
/// On PostgreSQL a `SiteChangeListener` rings for every change as it commits, and the watcher
/// checks at once instead of at the end of its interval. It still checks every interval: a
/// listening connection can die without saying so (a half-open socket, a pooler in between).
final class GenerationWatcher: LifecycleHandler, Sendable {
    /// How long to wait after a check failed (the database unreachable), so an outage is not
    /// met with a check, and a warning, every few moments.
    static let pauseAfterFailure: Duration = .seconds(2)

    private let caches: [PageCache]
    private let settings: LiveSiteSettings
    private let breaking: BreakingNewsBoard
    private let viewers: Viewers
    private let interval: Duration
    private let commentCountsInterval: Duration
    private let listener: SiteChangeListener?
    private let doorbell = Doorbell()
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(
        caches: [PageCache], settings: LiveSiteSettings, breaking: BreakingNewsBoard, viewers: Viewers, interval: Duration,
        commentCountsInterval: Duration, listener: SiteChangeListener?
    ) {
        self.caches = caches
        self.settings = settings
        self.breaking = breaking
        self.viewers = viewers
        self.interval = interval
        self.commentCountsInterval = commentCountsInterval
        self.listener = listener
    }

    /// How long to wait before the next check: the interval, but never past the moment a
    /// banner runs out, nor less than a pause after a failed check.
    private func nextWait(failed: Bool) -> Duration {
        if failed { return max(interval, Self.pauseAfterFailure) }
        var wait = interval
        if let expiry = breaking.nextExpiry {
            let untilExpiry = Duration.milliseconds(Int64(max(0, expiry.timeIntervalSinceNow) * 1000))
            wait = min(wait, max(untilExpiry, .milliseconds(100)))
        }
        return wait
    }

    func didBootAsync(_ application: Application) async throws {
        let database = application.db
        let counters = try await SiteCounters.values(on: database)
        let first = counters[ContentGeneration.key] ?? 0
        settings.adopt(try await SiteSettingsStore.load(on: database))
        try await breaking.reload(on: database)
        for cache in caches { cache.adopt(generation: first) }
        let caches = caches, settings = settings, breaking = breaking, viewers = viewers, commentCountsInterval = commentCountsInterval, logger = application.logger
        let doorbell = doorbell
        tasks.withLock { tasks in
            if let listener {
                tasks.append(Task { await listener.run(heard: { doorbell.ring() }) })
            }
            tasks.append(Task {
                var seen = first
                var seenSessions = counters[MemberSessions.generationKey] ?? 0
                var failed = false
                while !Task.isCancelled {
                    await doorbell.wait(upTo: self.nextWait(failed: failed))
                    failed = false
                    if let expiry = breaking.nextExpiry, expiry <= Date() {
                        do {
                            try await BreakingNews.noteExpiries(on: database, at: Date())
                        } catch {
                            failed = true
                            logger.warning("breaking.expiry_failed", metadata: ["error": "\(error)"])
                        }
                    }
                    do {
                        let counters = try await SiteCounters.values(on: database)
                        let sessions = counters[MemberSessions.generationKey] ?? 0
                        if sessions != seenSessions {
                            viewers.forgetAll()
                            seenSessions = sessions
                        }
                        do {
                            try await CommentCounts.showIfChanged(counters: counters, interval: commentCountsInterval, now: Date(), on: database)
                        } catch {
                            logger.warning("comments.counts_failed", metadata: ["error": "\(error)"])
                        }
                        let generation = counters[ContentGeneration.key] ?? 0
                        guard generation != seen else { continue }
                        // Settings first: pages rendered for the new generation must use them. The
                        // generation moves on even if they cannot be read, or unpublished pages would stay.
                        do {
                            settings.adopt(try await SiteSettingsStore.load(on: database))
                        } catch {
                            logger.warning("settings.reload_failed", metadata: ["error": "\(error)"])
                        }
                        // The banners, though, must be the generation's own: a banner taken down
                        // would otherwise be cached under the new generation, with nothing to
                        // clear it. The next interval tries again.
                        do {
                            try await breaking.reload(on: database)
                        } catch {
                            logger.warning("breaking.reload_failed", metadata: ["error": "\(error)"])
                            continue
                        }
                        for cache in caches { cache.adopt(generation: generation) }
                        seen = generation
                    } catch {
                        failed = true
                        logger.warning("cache.generation.poll_failed", metadata: ["error": "\(error)"])
                    }
                }
            })
        }
    }

    func shutdownAsync(_ application: Application) async {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }
}
