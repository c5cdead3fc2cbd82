import Foundation
import Masthead
import Vapor

/// Runs a command's body against the configured database, migrated (and booted, for commands
/// that deliver through the background jobs), and stops the app whatever happens.
func withApp<T>(boot: Bool = false, fillingSearchIndex: Bool = true, _ body: (Application, Settings) async throws -> T) async throws -> T {
    let settings = try Settings.fromEnvironment()
    let app = try await MastheadApp.make(settings: settings)
    do {
        try await MastheadApp.migrate(app, settings: settings, fillingSearchIndex: fillingSearchIndex)
        if boot { try await app.asyncBoot() }
        let result = try await body(app, settings)
        await MastheadApp.stop(app)
        return result
    } catch {
        await MastheadApp.stop(app)
        throw error
    }
}
