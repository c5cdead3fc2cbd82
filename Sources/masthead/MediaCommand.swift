import ArgumentParser
import Foundation
import Masthead

/// `masthead media prune`: removes uploaded images nothing uses any more.
struct Media: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look after the media folder.",
        subcommands: [Prune.self]
    )

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove uploaded images that no article, author, revision or setting uses and that are more than a day old."
        )

        @ArgumentParser.Flag(help: "List what would be removed, and remove nothing.") var dryRun = false

        func run() async throws {
            let settings = try Settings.fromEnvironment()
            let app = try await MastheadApp.make(settings: settings)
            do {
                try await MastheadApp.migrate(app, settings: settings)
                let pruning = MediaPruning(database: app.db, directory: settings.mediaDirectory)
                let unused = try await pruning.unusedUploads()
                if !dryRun { try pruning.remove(unused) }
                await MastheadApp.stop(app)
                for name in unused { Terminal.say((dryRun ? "would remove " : "removed ") + name) }
                Terminal.say("\(unused.count) unused \(unused.count == 1 ? "image" : "images")\(dryRun ? " found; nothing removed" : " removed").")
            } catch {
                await MastheadApp.stop(app)
                throw error
            }
        }
    }
}
