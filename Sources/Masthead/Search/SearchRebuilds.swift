import Fluent
import Foundation
import Logging
import SQLKit
import Synchronization

/// Rebuilds of the search index as durable jobs. One is open at a time; whichever instance
/// claims it runs it, renewing its claim as it goes and writing its progress, which the admin
/// shows. An instance that dies or shuts down mid-rebuild leaves it open: another (or the same,
/// restarted) takes it over once the claim lapses and goes on after the last article filed.
struct SearchRebuilds: Sendable {
    /// A claim lapses this long after its instance last renewed it.
    static let lease: TimeInterval = 60
    static let commandLine = "the command line"

    /// A rebuild whose claim lapsed this many times, its instance dying each time, is given up.
    static let mostTakeovers = 3
    /// A rebuild that files nothing for this long is left to lapse, for another instance.
    static let stallLimit: TimeInterval = 15 * 60

    let database: any Database
    var lease: TimeInterval = Self.lease
    var batchSize = 1000
    /// Batches filed at once; nil for the database's own choice (`SearchIndexing.rebuild`).
    var lanes: Int? = nil
    /// Where claims are renewed: on SQLite, not the connection the rebuild keeps busy.
    var renewals: (any Database)? = nil

    enum Request {
        case queued(SearchRebuild)
        /// One was already queued or running: asking again changes nothing.
        case alreadyOpen(SearchRebuild)
    }

    enum Outcome: Equatable {
        case finished(articles: Int)
        /// Cancelled, taken over after a lapsed claim, or left for another instance at shutdown.
        case stopped
    }

    func request(by requester: String) async throws -> Request {
        if let open = try await open() { return .alreadyOpen(open) }
        let rebuild = SearchRebuild(requestedBy: requester, at: Date())
        do {
            try await rebuild.create(on: database)
        } catch {
            // Another request may have taken the one open slot between the look and the write.
            guard (error as? any DatabaseError)?.isConstraintFailure == true, let open = try await open() else { throw error }
            return .alreadyOpen(open)
        }
        return .queued(rebuild)
    }

    /// Opens a rebuild already claimed by the caller, so that no instance's background job can
    /// take it between the asking and the claiming; nil when one is open already.
    func startClaimed(by requester: String) async throws -> SearchRebuild? {
        guard try await open() == nil else { return nil }
        let now = Date()
        let rebuild = SearchRebuild(requestedBy: requester, at: now)
        rebuild.status = .running
        rebuild.claim = UUID()
        rebuild.claimedUntil = now.addingTimeInterval(lease)
        rebuild.startedAt = now
        do {
            try await rebuild.create(on: database)
        } catch {
            guard (error as? any DatabaseError)?.isConstraintFailure == true else { throw error }
            return nil
        }
        return rebuild
    }

    func open() async throws -> SearchRebuild? {
        try await SearchRebuild.query(on: database).filter(\.$openSlot == 1).first()
    }

    func latest(_ count: Int) async throws -> [SearchRebuild] {
        try await SearchRebuild.query(on: database).sort(\.$requestedAt, .descending).limit(count).all()
    }

    /// Claims the open rebuild if it waits for an instance, or if its instance stopped renewing
    /// its claim. Only one claimant can win: the update checks again what the look saw.
    func claim() async throws -> SearchRebuild? {
        let now = Date()
        // A look first: instances ask every few seconds, and an update would take SQLite's write lock each time.
        guard let open = try await open(), let id = open.id, open.status == .queued || open.claimedUntil.map({ $0 < now }) == true else { return nil }
        if open.status == .running, open.takeovers >= Self.mostTakeovers {
            try await sql.raw("""
                UPDATE search_rebuilds SET status = \(bind: SearchRebuild.Status.failed.rawValue), finished_at = \(bind: now),
                  failure = \(bind: "its instance stopped \(open.takeovers) times while running it: see the logs, then ask again"),
                  open_slot = NULL, claim = NULL, claimed_until = NULL
                WHERE id = \(bind: id) AND open_slot = 1 AND claimed_until < \(bind: now)
                """).run()
            return nil
        }
        let token = UUID()
        // A claim that lapsed while held counts as a takeover; one handed on at shutdown does not.
        let claimed = try await sql.raw("""
            UPDATE search_rebuilds SET status = \(bind: SearchRebuild.Status.running.rawValue), claim = \(bind: token),
              claimed_until = \(bind: now.addingTimeInterval(lease)), started_at = COALESCE(started_at, \(bind: now)),
              takeovers = takeovers + CASE WHEN claim IS NULL THEN 0 ELSE 1 END
            WHERE id = \(bind: id) AND open_slot = 1
              AND (status = \(bind: SearchRebuild.Status.queued.rawValue) OR claimed_until < \(bind: now))
            RETURNING id
            """).all()
        guard !claimed.isEmpty else { return nil }
        return try await SearchRebuild.find(id, on: database)
    }

    /// Runs a claimed rebuild to its end. `progress` hears how far it has gone (the command
    /// line's bar) and `tidying` when the last article is filed.
    func run(
        _ rebuild: SearchRebuild,
        progress: @escaping @Sendable (SearchIndexing.RebuildProgress) async -> Void = { _ in }, tidying: @escaping @Sendable () -> Void = {}
    ) async throws -> Outcome {
        guard let id = rebuild.id, let token = rebuild.claim else { return .stopped }
        // Without a place to go on from, it starts again, and counts again from none.
        let resuming = rebuild.resumeFrom.map { SearchIndexing.RebuildProgress(done: rebuild.done, total: rebuild.total, lastFiled: $0) }
        // Filing one batch is quick, but tidying the index at the end can take a minute: the
        // claim is renewed on a clock as well as after each batch, and the work is stopped as
        // soon as the claim is found gone (cancelled, or taken over).
        let pulse = Pulse()
        let work = Task { [self] in
            try await SearchIndexing(database: database).rebuild(batchSize: batchSize, lanes: lanes, resuming: resuming) { done in
                try Task.checkCancellation()
                try await record(done, of: id, claim: token)
                pulse.beat()
                await progress(done)
            } tidying: {
                tidying()
            }
        }
        let heartbeat = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(lease / 4))
                if Task.isCancelled { break }
                // A rebuild stuck on one batch stops renewing, and another instance takes it over.
                if pulse.silence > Self.stallLimit { break }
                if (try? await renew(id, claim: token)) == false {
                    work.cancel()
                    break
                }
            }
        }
        return try await alongside(heartbeat) {
            do {
                let count = try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
                return try await end(id, claim: token, as: .finished, done: count, failure: nil) ? .finished(articles: count) : .stopped
            } catch is ClaimLost {
                return .stopped
            } catch is CancellationError {
                // The instance is shutting down: a task that is not cancelled hands the rebuild on.
                try await Task { try await release(id, claim: token) }.value
                return .stopped
            } catch {
                _ = try? await end(id, claim: token, as: .failed, done: nil, failure: String(String(describing: error).prefix(500)))
                throw error
            }
        }
    }

    /// For an instance's background jobs: runs the open rebuild if it can claim it, and
    /// otherwise files rows that lack scope words, if any do: up to ten batches a turn, with a
    /// pause after each for other writers. Returns how many rebuilds or batches ran (for the
    /// job's metrics).
    @discardableResult
    func runDue(logger: Logger) async throws -> Int {
        guard let rebuild = try await claim() else {
            // A rebuild another instance runs files every row again anyway.
            guard try await open() == nil else { return 0 }
            // A rebuild whose end failed, on a database in trouble, may have left vacuums held off.
            if sql.dialect.name == "postgresql" { try await PostgresSearchIndex.letVacuumsRun(on: sql) }
            var batches = 0
            while batches < 10, !Task.isCancelled, try await SearchIndexing(database: database).scopeUnscoped() > 0 {
                batches += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
            return batches
        }
        logger.notice("search.rebuild.started", metadata: ["requested_by": "\(rebuild.requestedBy)", "already_filed": "\(rebuild.done)"])
        let outcome = try await run(rebuild)
        logger.notice("search.rebuild.ended", metadata: ["outcome": "\(outcome)"])
        return 1
    }

    /// Stops the open rebuild; what it filed stays filed, and the index stays whole.
    func cancel(_ id: UUID) async throws -> Bool {
        try await !sql.raw("""
            UPDATE search_rebuilds SET status = \(bind: SearchRebuild.Status.cancelled.rawValue), finished_at = \(bind: Date()),
              open_slot = NULL, claim = NULL, claimed_until = NULL
            WHERE id = \(bind: id) AND open_slot = 1 RETURNING id
            """).all().isEmpty
    }

    private struct ClaimLost: Error {}

    private func record(_ progress: SearchIndexing.RebuildProgress, of id: UUID, claim: UUID) async throws {
        let updated = try await sql.raw("""
            UPDATE search_rebuilds SET done = \(bind: progress.done), total = \(bind: progress.total),
              resume_published_at = \(bind: progress.lastFiled?.publishedAt), resume_article = \(bind: progress.lastFiled?.articleID),
              resume_after = NULL, claimed_until = \(bind: Date().addingTimeInterval(lease))
            WHERE id = \(bind: id) AND claim = \(bind: claim) AND status = \(bind: SearchRebuild.Status.running.rawValue)
            RETURNING id
            """).all()
        if updated.isEmpty { throw ClaimLost() }
    }

    /// Whether the claim was still this instance's.
    private func renew(_ id: UUID, claim: UUID) async throws -> Bool {
        let handle = (renewals ?? database) as! any SQLDatabase
        return try await !handle.raw("""
            UPDATE search_rebuilds SET claimed_until = \(bind: Date().addingTimeInterval(lease))
            WHERE id = \(bind: id) AND claim = \(bind: claim) AND status = \(bind: SearchRebuild.Status.running.rawValue)
            RETURNING id
            """).all().isEmpty
    }

    /// Gives the claim up at once, for the next instance to go on.
    private func release(_ id: UUID, claim: UUID) async throws {
        try await sql.raw("""
            UPDATE search_rebuilds SET claim = NULL, claimed_until = \(bind: Date.distantPast)
            WHERE id = \(bind: id) AND claim = \(bind: claim)
            """).run()
    }

    private func end(_ id: UUID, claim: UUID, as status: SearchRebuild.Status, done: Int?, failure: String?) async throws -> Bool {
        let doneNow: SQLQueryString = done.map { ", done = \(bind: $0)" } ?? ""
        return try await !sql.raw("""
            UPDATE search_rebuilds SET status = \(bind: status.rawValue), finished_at = \(bind: Date()), failure = \(bind: failure),
              open_slot = NULL, claim = NULL, claimed_until = NULL\(doneNow)
            WHERE id = \(bind: id) AND claim = \(bind: claim) AND status = \(bind: SearchRebuild.Status.running.rawValue)
            RETURNING id
            """).all().isEmpty
    }

    private var sql: any SQLDatabase { database as! any SQLDatabase }
}

/// When a running rebuild last filed a batch.
private final class Pulse: Sendable {
    private let last = Mutex(Date())

    func beat() { last.withLock { $0 = Date() } }

    var silence: TimeInterval { last.withLock { Date().timeIntervalSince($0) } }
}
