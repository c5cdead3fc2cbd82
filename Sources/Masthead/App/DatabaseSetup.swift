import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import NIOPosix
import SQLKit
import Vapor

enum DatabaseSetup {
    static func configure(_ app: Application, settings: Settings) throws {
        switch settings.database {
        case .sqlite(let path):
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw StartupError("cannot create the database folder \(folder): \(error.localizedDescription)")
                }
            }
            guard FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) else {
                throw StartupError("the database folder \(folder) is not writable")
            }
            app.storage.set(SQLiteSiteLockKey.self, to: try SQLiteSiteLock.shared(for: path)) { $0.release() }
            // SQLite's calls block a thread each. On the process's shared pool (two threads on
            // two cores), two writers waiting for the write lock held the only threads while the
            // connection holding it waited for one to commit: every database call stopped. A pool
            // of the application's own, a thread for each connection and two for files, cannot
            // run out that way.
            let connections = 2 * app.eventLoopCount
            app.threadPool = NIOThreadPool(numberOfThreads: connections + 2)
            app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqlite)
            // SQLite keeps one connection per event loop: a long job (a search rebuild) on one
            // of those would keep that loop's requests waiting for every batch it writes.
            app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqliteBackground, isDefault: false)
        case .postgres(let url):
            let configuration = try postgresConfiguration(url, variable: "MASTHEAD_DATABASE_URL", applicationName: applicationName)
            // Newsletter delivery records each message as its server answers, over several SMTP
            // connections at once: with one database connection per event loop they queued for it.
            app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: settings.databasePoolSize, sqlLogLevel: .debug), as: .psql)
            if let replicaURL = settings.readReplicaURL {
                var replica = try postgresConfiguration(replicaURL, variable: "MASTHEAD_DATABASE_READ_URL", applicationName: applicationName)
                // A page read that a stuck standby holds (a replay conflict, say) gives up, and the
                // page is read from the primary at the next request, rather than waiting for ever.
                replica.coreConfiguration.options.additionalStartupParameters.append(("statement_timeout", "5s"))
                app.databases.use(.postgres(configuration: replica, maxConnectionsPerEventLoop: settings.databasePoolSize, sqlLogLevel: .debug), as: ReadReplica.id, isDefault: false)
            }
        }
        app.migrations.add(MastheadMigrations.all)
    }

    /// A PostgreSQL connection's configuration from the URL an operator gave in `variable`.
    private static func postgresConfiguration(_ url: String, variable: String, applicationName: String) throws -> SQLPostgresConfiguration {
        var configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StartupError("\(variable) is not a valid PostgreSQL URL")
        }
        configuration.coreConfiguration.options.additionalStartupParameters.append(("application_name", applicationName))
        return configuration
    }

    /// What this instance's pooled connections call themselves in `pg_stat_activity`: a DBA can
    /// tell the instances apart, and `/metrics` counts this one's connections.
    static let applicationName: String = {
        // A few random characters besides the pid: in containers every instance may be pid 1 on one host name.
        let nonce = String(UUID().uuidString.prefix(6)).lowercased()
        var name = "masthead \(ProcessInfo.processInfo.processIdentifier)-\(nonce) \(localHostName())"
        // PostgreSQL keeps 63 bytes of it; the pid comes first so that a long host name cannot cut it off.
        while name.utf8.count > 63 { name.removeLast() }
        return name
    }()

    /// The machine's name as it calls itself: `gethostname`, never a DNS lookup (Foundation's
    /// `hostName` resolves the machine's addresses, which can take seconds on a bare network).
    private static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The database alone, for `masthead doctor`: no folder or file is created, no lock taken, no
    /// migration registered. False when a SQLite database does not exist yet.
    static func openForInspection(_ app: Application, settings: Settings) throws -> Bool {
        switch settings.database {
        case .sqlite(let path):
            guard FileManager.default.fileExists(atPath: path) else { return false }
            app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqlite)
        case .postgres(let url):
            let configuration = try postgresConfiguration(url, variable: "MASTHEAD_DATABASE_URL", applicationName: "masthead doctor")
            app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 1, sqlLogLevel: .debug), as: .psql)
            if let replicaURL = settings.readReplicaURL {
                let replica = try postgresConfiguration(replicaURL, variable: "MASTHEAD_DATABASE_READ_URL", applicationName: "masthead doctor")
                app.databases.use(.postgres(configuration: replica, maxConnectionsPerEventLoop: 1, sqlLogLevel: .debug), as: ReadReplica.id, isDefault: false)
            }
        }
        return true
    }

    /// Answers once the database does; used at start-up.
    static func ping(_ database: any Database) async throws {
        _ = try await (database as! any SQLDatabase).raw("SELECT 1").all()
    }

    /// The migrations this build knows that the database has not had, in order.
    static func pendingMigrations(on database: any Database) async throws -> [String] {
        let applied = try await (database as! any SQLDatabase).raw("SELECT name FROM _fluent_migrations").all()
            .reduce(into: Set<String>()) { names, row in names.insert(try row.decode(column: "name", as: String.self)) }
        return MastheadMigrations.all.map { $0.name }.filter { !applied.contains($0) }
    }

    /// Runs `body` while no other Masthead process runs its own: on PostgreSQL under an advisory
    /// lock, held on a connection of its own, so that instances started together (a deploy, a
    /// machine's boot) migrate the database once between them rather than race to. SQLite has
    /// one machine, whose processes its own write lock keeps in turn.
    static func exclusively(_ settings: Settings, logger: Logger, _ body: () async throws -> Void) async throws {
        guard case .postgres(let url) = settings.database else { return try await body() }
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: try SQLPostgresConfiguration(url: url).coreConfiguration, id: 0, logger: logger
        )
        var failure: (any Error)?
        do {
            _ = try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLock))", logger: logger)
            do {
                try await body()
            } catch {
                failure = error
            }
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
        } catch {
            failure = failure ?? error
        }
        try? await connection.close()
        if let failure { throw failure }
    }

    /// The advisory lock's number: "MHMG" in ASCII, so that it names Masthead's migrations.
    private static let migrationLock: Int64 = 0x4D48_4D47

    /// On PostgreSQL, a listener for changes made on other instances (`SiteChangeListener`).
    static func changeListener(_ settings: Settings, logger: Logger) throws -> SiteChangeListener? {
        guard case .postgres(let url) = settings.database else { return nil }
        do {
            return SiteChangeListener(configuration: try SQLPostgresConfiguration(url: url).coreConfiguration, logger: logger)
        } catch {
            throw StartupError("MASTHEAD_DATABASE_URL is not a valid PostgreSQL URL")
        }
    }

    /// Opens and closes one PostgreSQL connection with a silent logger before the connection
    /// pool exists, so an unreachable server is reported once, in one line, not logged by the pool.
    static func preflight(_ settings: Settings) async throws {
        guard case .postgres(let url) = settings.database else { return }
        var quiet = Logger(label: "masthead.preflight")
        quiet.logLevel = .critical
        do {
            let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: quiet
            ).get()
            try await connection.close()
        } catch {
            throw StartupError("cannot reach the database (\(settings.database)): \(String(reflecting: error).prefix(300))")
        }
    }

    /// Start-up check with a readable failure instead of a driver's stack of errors.
    static func verifyReachable(_ app: Application, settings: Settings) async throws {
        do {
            if case .sqlite = settings.database {
                // WAL lets readers carry on while a writer commits (https://sqlite.org/wal.html).
                _ = try await (app.db as! any SQLDatabase).raw("PRAGMA journal_mode=WAL").all()
                // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a commit
                // survives the process being killed and is lost only to a power cut before the
                // next checkpoint. One fsync per delivered newsletter capped sending at ~250 a
                // second. The setting is per connection; the pool keeps one per event loop. A
                // writer finding the database locked waits, sleeping, up to ten seconds (the
                // driver's own handler retries at once, for ever, keeping its thread busy).
                for eventLoop in app.eventLoopGroup.makeIterator() {
                    for id in [DatabaseID.sqlite, .sqliteBackground] {
                        if let database = app.databases.database(id, logger: app.logger, on: eventLoop) {
                            _ = try await (database as! any SQLDatabase).raw("PRAGMA synchronous=NORMAL").all()
                            _ = try await (database as! any SQLDatabase).raw("PRAGMA busy_timeout=10000").all()
                        }
                    }
                }
            }
            try await ping(app.db)
        } catch {
            throw StartupError("cannot reach the database (\(settings.database)): \(String(reflecting: error).prefix(300))")
        }
    }
}

extension DatabaseID {
    static let sqliteBackground = DatabaseID(string: "sqlite-background")
}

extension Application {
    /// The database for long background jobs: on SQLite, connections of their own; on
    /// PostgreSQL, the shared pool, which has several per event loop.
    var backgroundDatabase: any Database {
        databases.ids().contains(.sqliteBackground) ? db(.sqliteBackground) : db
    }
}

extension Settings.DatabaseLocation: CustomStringConvertible {
    /// The location without any password, for messages and logs.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite \(path)"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres" }
            if components.password != nil { components.password = "redacted" }
            return components.string ?? "postgres"
        }
    }
}

/// A reason Masthead cannot start, said in one line to whoever started it.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Application {
    /// The event loops serving requests, each with its own database connections.
    var eventLoopCount: Int {
        eventLoopGroup.makeIterator().reduce(0) { count, _ in count + 1 }
    }
}
