import ArgumentParser
import Foundation
import Masthead

/// `masthead export [DIR]`: everything the outlet owns, in the documented export format.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the site (content, revisions, members, subscriptions, newsletters, settings, redirects) as JSON: into a new folder with its media, or to standard output.",
        discussion: "The format is described in docs/export-format.md; `masthead import masthead` reads it back."
    )

    @Argument(help: "A new or empty folder for the document and a copy of the media; without it, the document goes to standard output.")
    var folder: String?

    func run() async throws {
        guard let folder else {
            _ = try await withApp(fillingSearchIndex: false) { app, settings in
                try await SiteExport.write(app, settings: settings) { Terminal.write($0) }
            }
            return
        }
        let summary = try await withApp(fillingSearchIndex: false) { app, settings in
            try await SiteExport.save(app, settings: settings, into: folder) { step in
                switch step {
                case .rows(let done, let total): Terminal.progress(done: done, total: total, label: "rows")
                case .media(let done, let total): Terminal.progress(done: done, total: total, label: "media files")
                }
            }
        }
        Terminal.say("Exported to \(summary.folder ?? folder): \(ImportCounts.describe(summary.rows)), \(summary.mediaFiles) media \(summary.mediaFiles == 1 ? "file" : "files").")
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a site from another platform or from a Masthead export.",
        subcommands: [ImportMasthead.self]
    )
}

/// `masthead import masthead PATH`: a Masthead export, back into an empty database.
struct ImportMasthead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masthead",
        abstract: "Import a Masthead export (a folder written by `masthead export DIR`, or its JSON document) into an empty database, then rebuild the search index."
    )

    @Argument(help: "The export's folder, or its masthead-export.json (with media/ beside it).") var path: String
    @Flag(help: "Check the export and report what would be imported, writing nothing.") var dryRun = false

    func run() async throws {
        let started = Date()
        let outcome = try await withApp(fillingSearchIndex: false) { app, settings in
            let summary = try await SiteImport.run(app, settings: settings, from: path, dryRun: dryRun) { step in
                switch step {
                case .checkingMedia(let done, let total): Terminal.progress(done: done, total: total, label: "media files checked")
                case .copyingMedia(let done, let total): Terminal.progress(done: done, total: total, label: "media files copied")
                case .rows(let done, let total): Terminal.progress(done: done, total: total, label: "rows")
                }
            }
            if !dryRun && !summary.alreadyImported {
                _ = try await SearchMaintenance.reindex(app) { done, total in
                    Terminal.progress(done: done, total: total, label: "articles indexed")
                } tidying: {}
            }
            return summary
        }
        let what = "\(ImportCounts.describe(outcome.rows)), \(outcome.mediaFiles) media \(outcome.mediaFiles == 1 ? "file" : "files")"
        if outcome.alreadyImported {
            Terminal.say("Nothing to import: every row of the export of \(outcome.exportedAt) is already in this database. Created nothing.")
        } else if dryRun {
            Terminal.say("Dry run: would import \(what) from the export of \(outcome.exportedAt). Wrote nothing.")
        } else {
            Terminal.say("Imported \(what) from the export of \(outcome.exportedAt) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
        }
    }
}

enum ImportCounts {
    /// "120 articles, 5 authors, 80 members (1,204 rows in all)".
    static func describe(_ rows: [String: Int]) -> String {
        let named: [(table: String, one: String, many: String)] = [
            ("articles", "article", "articles"), ("authors", "author", "authors"), ("topics", "topic", "topics"),
            ("members", "member", "members"), ("subscriptions", "subscription", "subscriptions"),
            ("newsletter_subscriptions", "newsletter subscriber", "newsletter subscribers"),
        ]
        let total = rows.values.reduce(0, +)
        let parts = named.map { item in
            let count = rows[item.table] ?? 0
            return "\(count) \(count == 1 ? item.one : item.many)"
        }
        return parts.joined(separator: ", ") + " (\(total) rows in all)"
    }
}
