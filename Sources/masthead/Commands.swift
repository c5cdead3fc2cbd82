import ArgumentParser
import Foundation
import Masthead
import Vapor

struct MastheadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masthead",
        abstract: "A publishing platform for independent news outlets.",
        subcommands: [Demo.self, Serve.self, Worker.self, Migrate.self, Export.self, Import.self, User.self, Media.self, BillingCommand.self, NewsletterCommand.self, MailCommand.self, APICommand.self, Reindex.self, Backup.self, Restore.self, Bench.self, DoctorCommand.self]
    )
}

struct ServerOptions: ParsableArguments {
    @ArgumentParser.Option(help: "The address to listen on.") var hostname: String?
    @ArgumentParser.Option(help: "The port to listen on.") var port: Int?
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Masthead with demo content (SQLite in the data folder unless MASTHEAD_DATABASE_URL is set)."
    )

    @OptionGroup var server: ServerOptions
    @ArgumentParser.Option(help: "The folder for the SQLite database and media (default: MASTHEAD_DATA, else ./data).") var data: String?

    func run() async throws {
        var settings = try Settings.fromEnvironment(hostname: server.hostname, port: server.port, dataDirectory: data)
        if ProcessInfo.processInfo.environment["MASTHEAD_EDITIONS"] == nil { settings.editionCodes = DemoContent.editions }
        try DataFolder.prepare(settings.dataDirectory)
        if settings.smtp == nil {
            settings.developmentMail = true
            Terminal.say("Development mail: emails are written to \(settings.mailDropDirectory), not sent (set MASTHEAD_SMTP_URL to send).")
        }
        if settings.billing.stripe == nil {
            settings.billing.testMode = true
            Terminal.say("Billing test mode: readers pay on Masthead's own checkout page and no money moves (set MASTHEAD_STRIPE_SECRET_KEY and MASTHEAD_STRIPE_WEBHOOK_SECRET to take payments).")
        }
        let app = try await MastheadApp.make(settings: settings)
        do {
            try await MastheadApp.migrate(app, settings: settings)
            let added = try await DemoContent.loadIfEmpty(on: app.db, settings: settings)
            if added > 0 { Terminal.say("Loaded \(added) demo articles.") }
            if settings.billing.testMode, try await DemoMembers.loadIfNone(on: app.db) > 0 {
                Terminal.say("Loaded 80 demo readers, some paying in test mode: see the admin's Revenue page.")
            }
            if try await DemoComments.loadIfNone(on: app.db) > 0 {
                Terminal.say("Loaded a discussion under the newest public stories: see the admin's Comments page.")
            }
            if let owner = try await StaffAccounts(database: app.db).createDemoOwner() {
                Terminal.say("Demo admin: sign in at /admin/signin as \(owner.email) with password \(owner.password)")
            }
            try await serve(app, settings: settings)
        } catch {
            await MastheadApp.stop(app)
            throw error
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the database named by MASTHEAD_DATABASE_URL, migrating it first.",
        discussion: "With several instances on one PostgreSQL database, run some as web and one or more as worker."
    )

    @OptionGroup var server: ServerOptions
    @ArgumentParser.Option(help: "web (pages only), worker (background jobs only) or all (default: MASTHEAD_ROLE, else all).") var role: String?

    func run() async throws {
        var settings = try Settings.fromEnvironment(hostname: server.hostname, port: server.port)
        if let role { settings.role = try Settings.parseRole(role) }
        try await runServer(settings)
    }
}

/// Migrates, then serves readers or runs the background jobs, as the settings' role says,
/// until the process is asked to stop.
func runServer(_ settings: Settings) async throws {
    try settings.requireMailForServing()
    try DataFolder.prepare(settings.dataDirectory)
    let app = try await MastheadApp.make(settings: settings)
    do {
        try await MastheadApp.migrate(app, settings: settings)
        if settings.role == .worker {
            try await MastheadApp.bootWorker(app)
            Terminal.say("Masthead worker running on \(settings.database).")
            await MastheadApp.waitForTerminationSignal()
            Terminal.say("Stopping.")
            await MastheadApp.stop(app)
        } else {
            try await serve(app, settings: settings)
        }
    } catch {
        await MastheadApp.stop(app)
        throw error
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bring the database schema up to date.")

    func run() async throws {
        let settings = try Settings.fromEnvironment()
        let app = try await MastheadApp.make(settings: settings)
        do {
            try await MastheadApp.migrate(app, settings: settings)
        } catch {
            await MastheadApp.stop(app)
            throw error
        }
        await MastheadApp.stop(app)
        Terminal.say("The database is up to date (\(settings.database)).")
    }
}

private func serve(_ app: Application, settings: Settings) async throws {
    let bound = try await MastheadApp.start(app, hostname: settings.hostname, port: settings.port)
    let host = bound.host.contains(":") ? "[\(bound.host)]" : bound.host
    let jobs = settings.role == .web ? " (web: background jobs run on a worker)" : ""
    Terminal.say("Masthead is serving \(settings.database) at http://\(host):\(bound.port)/\(jobs)")
    if settings.publicURL != "http://\(host):\(bound.port)" {
        Terminal.say("Public URL: \(settings.publicURL)/")
    }
    await MastheadApp.waitForTerminationSignal()
    Terminal.say("Stopping.")
    await MastheadApp.stop(app)
}

enum DataFolder {
    static func prepare(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StartupError("cannot create the data folder \(path): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw StartupError("the data folder \(path) is not writable")
        }
    }
}
