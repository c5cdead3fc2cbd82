import Fluent
import Foundation
import Masthead
import SQLKit
import Synchronization
import Vapor

/// A Masthead server running for real on a free port on 127.0.0.1, over an empty database
/// or the demo content, with an HTTP client that talks to it over the loopback.
final class TestSite: @unchecked Sendable {
    let app: Application
    let settings: Settings
    let baseURL: String

    private init(app: Application, settings: Settings, baseURL: String) {
        self.app = app
        self.settings = settings
        self.baseURL = baseURL
    }

    static func start(
        on database: TestDatabase, withDemo: Bool = true, configure: (inout Settings) throws -> Void = { _ in }
    ) async throws -> TestSite {
        var settings = try await database.freshSettings()
        try configure(&settings)
        let app = try await MastheadApp.make(settings: settings)
        app.http.client.configuration.redirectConfiguration = .disallow
        do {
            if database == .postgres {
                // One PostgreSQL database serves the whole run: start each site from an empty schema.
                let sql = app.db as! any SQLDatabase
                try await sql.raw("DROP SCHEMA public CASCADE").run()
                try await sql.raw("CREATE SCHEMA public").run()
            }
            try await MastheadApp.migrate(app, settings: settings)
            if withDemo { try await DemoContent.loadIfEmpty(on: app.db, settings: settings) }
            let bound = try await MastheadApp.start(app, hostname: "127.0.0.1", port: 0)
            return TestSite(app: app, settings: settings, baseURL: "http://127.0.0.1:\(bound.port)")
        } catch {
            await MastheadApp.stop(app)
            throw error
        }
    }

    private let stopped = Mutex(false)

    /// Stops the server once; later calls (after a restart, say) do nothing.
    func stop() async {
        guard stopped.withLock({ state in defer { state = true }; return !state }) else { return }
        await MastheadApp.stop(app)
    }

    /// Stops this server and starts a new one on the same database and data folder, as an
    /// operator's restart would; the returned site must be stopped by the caller.
    func restarted() async throws -> TestSite {
        await stop()
        return try await Self.open(settings)
    }

    /// A server on a database that already holds a site (a restored one, say), migrated as
    /// `masthead serve` would; the caller stops it.
    static func open(_ settings: Settings) async throws -> TestSite {
        let app = try await MastheadApp.make(settings: settings)
        app.http.client.configuration.redirectConfiguration = .disallow
        do {
            try await MastheadApp.migrate(app, settings: settings)
            let bound = try await MastheadApp.start(app, hostname: "127.0.0.1", port: 0)
            return TestSite(app: app, settings: settings, baseURL: "http://127.0.0.1:\(bound.port)")
        } catch {
            await MastheadApp.stop(app)
            throw error
        }
    }

    /// Runs a body with a second instance on this site's database and data folder, stopped
    /// before this returns, whatever happens: on PostgreSQL the next test's site must not meet it.
    func withSecondInstance(_ body: (TestSite) async throws -> Void) async throws {
        let second = try await Self.open(settings)
        do {
            try await body(second)
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()
    }

    struct Page {
        let status: HTTPStatus
        let headers: HTTPHeaders
        let body: String
        let bytes: ByteBuffer
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Page {
        let response = try await app.client.get(URI(string: baseURL + path), headers: HTTPHeaders(headers))
        let bytes = response.body ?? ByteBuffer()
        return Page(status: response.status, headers: response.headers, body: String(buffer: bytes), bytes: bytes)
    }
}

/// Runs a body against a fresh site, stopping it whatever happens. Sites on PostgreSQL share
/// one test database, so they take turns; SQLite sites each have their own file and run at once.
func withSite(
    on database: TestDatabase, withDemo: Bool = true, configure: (inout Settings) throws -> Void = { _ in },
    _ body: (TestSite) async throws -> Void
) async throws {
    if database == .postgres { await SharedDatabaseTurn.shared.acquire() }
    do {
        let site = try await TestSite.start(on: database, withDemo: withDemo, configure: configure)
        do {
            try await body(site)
        } catch {
            await site.stop()
            throw error
        }
        await site.stop()
    } catch {
        if database == .postgres { await SharedDatabaseTurn.shared.release() }
        throw error
    }
    if database == .postgres { await SharedDatabaseTurn.shared.release() }
}

/// A first-come, first-served turn on the one PostgreSQL test database.
actor SharedDatabaseTurn {
    static let shared = SharedDatabaseTurn()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
