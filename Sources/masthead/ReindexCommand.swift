import ArgumentParser
import Foundation
import Masthead

/// `masthead reindex`: files every published article in the search index again, for after a
/// restore or a change to how text is normalised. Readers keep searching meanwhile.
struct Reindex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the search index from the published articles, showing progress; the site keeps searching meanwhile."
    )

    func run() async throws {
        let started = Date()
        let count = try await withApp(fillingSearchIndex: false) { app, _ in
            try await SearchMaintenance.reindex(app) { done, total in
                Terminal.progress(done: done, total: total, label: "articles")
            } tidying: {
                Terminal.say("Taking out unpublished articles and merging the index…")
            }
        }
        Terminal.say("Indexed \(count) published \(count == 1 ? "article" : "articles") in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
    }
}
