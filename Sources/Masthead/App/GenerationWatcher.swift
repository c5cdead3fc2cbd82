import Fluent
import Synchronization
import Vapor

/// Keeps this instance's page caches and site settings in step with the content generation in
/// the database, so that a publish or a settings change on any instance (or by the CLI) reaches
/// every instance within one interval; and its memory of sessions with the session generation,
/// so a sign-out anywhere is honoured everywhere as quickly. When a breaking-news banner's time
/// is up, the first instance to notice raises the generation for all; and likewise, at most once
/// every `commentCountsInterval`, when the comments readers see have changed (`CommentCounts`).
final class GenerationWatcher: LifecycleHandler, Sendable {
    private let caches: [PageCache]
    private let settings: LiveSiteSettings
    private let breaking: BreakingNewsBoard
    private let viewers: Viewers
    private let interval: Duration
    private let commentCountsInterval: Duration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(caches: [PageCache], settings: LiveSiteSettings, breaking: BreakingNewsBoard, viewers: Viewers, interval: Duration, commentCountsInterval: Duration) {
        self.caches = caches
        self.settings = settings
        self.breaking = breaking
        self.viewers = viewers
        self.interval = interval
        self.commentCountsInterval = commentCountsInterval
    }

    func didBootAsync(_ application: Application) async throws {
        let database = application.db
        let counters = try await SiteCounters.values(on: database)
        let first = counters[ContentGeneration.key] ?? 0
        settings.adopt(try await SiteSettingsStore.load(on: database))
        try await breaking.reload(on: database)
        for cache in caches { cache.adopt(generation: first) }
        let caches = caches, settings = settings, breaking = breaking, viewers = viewers, interval = interval, commentCountsInterval = commentCountsInterval, logger = application.logger
        task.withLock {
            $0 = Task {
                var seen = first
                var seenSessions = counters[MemberSessions.generationKey] ?? 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if let expiry = breaking.nextExpiry, expiry <= Date() {
                        do {
                            try await BreakingNews.noteExpiries(on: database, at: Date())
                        } catch {
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
                        logger.warning("cache.generation.poll_failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        task.withLock { $0?.cancel() }
    }
}
