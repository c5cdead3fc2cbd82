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

    /// Stops taking requests and lets those under way finish (see `FrontServer.shutdown`) while
    /// the background jobs finish the item each has in hand; then the work the requests left
    /// behind (live stories' watchers, mail sent after an answer) is stopped and waited for, the
    /// instance leaves the registry and the rest shuts down. Nothing is left running: a task
    /// still using the database when it closes would hand its connection back too late to be
    /// closed. What bounds the wait is each piece's own timeout (SMTP's, the HTTP client's,
    /// SQLite's busy timeout), and in the end the supervisor's kill.
    public static func stop(_ app: Application) async {
        let jobs = app.periodicJobs
        async let jobsStopped: Void = withTaskGroup(of: Void.self) { stops in
            for job in jobs { stops.addTask { await job.stop() } }
        }
        await app.server.shutdown()
        await jobsStopped
        await app.storage[LiveHubKey.self]?.stop()
        await app.storage[DetachedWorkKey.self]?.finish()
        if app.storage[AnnouncedKey.self] == true {
            try? await InstanceRegistry(database: app.db).forget(DatabaseSetup.applicationName)
        }
        try? await app.asyncShutdown()
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
