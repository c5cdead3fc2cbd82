import ArgumentParser
import Foundation
import Masthead

/// `masthead bench archive`: fills a database with a synthetic archive, so that the benchmarks
/// (`scripts/search-bench`) measure Masthead at an established outlet's size.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prepare data for benchmarks (never on a real site).",
        subcommands: [Archive.self]
    )

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a synthetic archive of published articles in every configured demo edition, after the demo content; not indexed for search (run `masthead reindex`)."
        )

        @ArgumentParser.Option(help: "How many articles to add.") var articles = 100_000

        func validate() throws {
            guard (1...5_000_000).contains(articles) else { throw ValidationError("--articles must be between 1 and 5,000,000") }
        }

        func run() async throws {
            let started = Date()
            let added = try await withApp { app, settings in
                try await DemoArchive.generate(count: articles, on: app.db, settings: settings) { done, total in
                    Terminal.progress(done: done, total: total, label: "articles")
                }
            }
            Terminal.say("Added \(added) articles in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
        }
    }
}
