import FluentPostgresDriver
import Foundation
import Logging
import NIOPosix

/// On PostgreSQL, hears a change of the site's counters (a publish, a sign-out, a banner) the
/// moment its transaction commits on any instance, by `LISTEN` on a connection of its own
/// (`SiteCounters.channel`). While that connection is down, the generation watcher's own
/// checks carry on at their usual pace; once it is back, one check catches up at once.
final class SiteChangeListener: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Listens until the task is cancelled, reconnecting with a growing pause after a failure;
    /// `heard` is called for each change, and once on every (re)connection.
    func run(heard: @escaping @Sendable () -> Void) async {
        var pause = Self.firstPause
        var outage = false
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: quietLogger
                )
                var lost: (any Error)?
                do {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: SiteCounters.channel) { changes in
                            if outage { logger.notice("site_changes.listening_again") }
                            outage = false
                            pause = Self.firstPause
                            heard()
                            for try await _ in changes { heard() }
                        }
                    } onCancel: {
                        connection.close().whenComplete { _ in }
                    }
                } catch {
                    lost = error
                }
                try? await connection.close()
                if let lost { throw lost }
            } catch {
                if !outage && !Task.isCancelled {
                    logger.warning("site_changes.not_listening", metadata: ["error": "\(String(reflecting: error).prefix(300))"])
                }
                outage = true
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, Self.longestPause)
        }
    }

    private static let firstPause: Duration = .milliseconds(250)
    private static let longestPause: Duration = .seconds(10)

    /// The connection's own logging would repeat every failed attempt; one line per outage is said above.
    private var quietLogger: Logger {
        var quiet = logger
        quiet.logLevel = .critical
        return quiet
    }
}
