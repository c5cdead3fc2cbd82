import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Vapor

extension MastheadApp {
    /// Runs Swift concurrency on NIO's event loops, as Vapor's own template does, so that a
    /// request's work does not hop between the event loop and the global executor's threads.
    /// Must be called first thing in `main`, before any task starts.
    public static func runConcurrencyOnEventLoops() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Starts listening and returns the address actually bound (port 0 picks a free port).
    public static func start(_ app: Application, hostname: String, port: Int) async throws -> (host: String, port: Int) {
        announceInstance(app)
        try await app.asyncBoot()
        do {
            try await app.server.start(address: .hostname(hostname, port: port))
        } catch {
            throw StartupError("cannot listen on \(hostname):\(port): \(error)")
        }
        let bound = app.storage[FrontServerKey.self]?.localAddress
        return (bound?.ipAddress ?? hostname, bound?.port ?? port)
    }

    /// Boots an instance that serves nobody and runs the background jobs.
    public static func bootWorker(_ app: Application) async throws {
        announceInstance(app)
        try await app.asyncBoot()
    }

    private static func announceInstance(_ app: Application) {
        guard let heartbeat = app.storage[InstanceHeartbeatKey.self] else { return }
        app.usePeriodically(heartbeat)
        app.storage[AnnouncedKey.self] = true
    }

    /// Stops taking requests and lets those under way finish while the background jobs finish
    /// the item each has in hand, both within the grace period; then the instance leaves the
    /// registry and the rest shuts down. A job still busy when the grace period ends (an SMTP
    /// server that does not answer) is not waited for: its claim lapses and another instance
    /// takes the item up. Work the requests left behind (live stories' watchers, mail sent after
    /// an answer) is then stopped and waited for, within what is left of the grace period.
    public static func stop(_ app: Application) async {
        let jobs = app.periodicJobs
        let grace = Duration.nanoseconds(app.storage[FrontServerKey.self]?.drainTimeout.nanoseconds ?? 0)
        let deadline = ContinuousClock.now + grace
        async let jobsStopped: Void = within(deadline) {
            await withTaskGroup(of: Void.self) { stops in
                for job in jobs { stops.addTask { await job.stop() } }
            }
        }
        await app.server.shutdown()
        await jobsStopped
        let liveHub = app.storage[LiveHubKey.self], detachedWork = app.detachedWork
        await within(deadline) {
            await liveHub?.stop()
            await detachedWork.finish()
        }
        if app.storage[AnnouncedKey.self] == true {
            try? await InstanceRegistry(database: app.db).forget(DatabaseSetup.applicationName)
        }
        try? await app.asyncShutdown()
    }

    /// Runs `work` until it ends or the deadline passes, whichever comes first; work still under
    /// way then is cancelled and no longer waited for.
    private static func within(_ deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () async -> Void) async {
        let once = OnceFlag()
        let running = Task { await work() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let timer = Task {
                try? await Task.sleep(until: deadline)
                if once.claim() { continuation.resume() }
            }
            Task {
                await running.value
                timer.cancel()
                if once.claim() { continuation.resume() }
            }
        }
        running.cancel()
    }

    /// Waits for SIGINT or SIGTERM, so `masthead serve` stops cleanly under a terminal or a supervisor.
    public static func waitForTerminationSignal() async {
        let queue = DispatchQueue(label: "masthead.signals")
        let sources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
        }
        let once = OnceFlag()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            for source in sources {
                source.setEventHandler {
                    if once.claim() { continuation.resume() }
                }
                source.resume()
            }
        }
        sources.forEach { $0.cancel() }
    }
}

private struct AnnouncedKey: StorageKey {
    typealias Value = Bool
}

private final class OnceFlag: @unchecked Sendable {
    private var claimed = false
    private let lock = NSLock()
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
