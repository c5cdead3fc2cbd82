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
        subcommands: [ImportWordPress.self, ImportGhost.self, ImportSubstack.self, ImportMasthead.self]
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
                _ = try await SearchMaintenance.reindex(app, following: true) { done, total in
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

/// `masthead import wordpress FILE.xml`: a WordPress export, with its images when given a copy of the uploads.
struct ImportWordPress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wordpress",
        abstract: "Import a WordPress export (WXR, from Tools → Export): authors, categories and tags as topics, posts with their featured images and captions, and a redirect from every old address. Running it again creates nothing twice."
    )

    @Argument(help: "The export file (.xml).") var file: String
    @ArgumentParser.Option(name: .customLong("media-dir"), help: "A copy of the old site's wp-content/uploads, for featured and inline images.") var mediaDirectory: String?
    @ArgumentParser.Option(name: .customLong("kind"), help: "A category that says what kind of piece a post is, as CATEGORY-SLUG=KIND (news, analysis, memo or report); repeatable. Categories named news, analysis, memos or reports are taken so without it.")
    var kinds: [String] = []
    @ArgumentParser.Option(help: "Who may read the imported posts: public, members or paid.") var visibility: String = "public"
    @Flag(help: "Report what would be imported, and what could not be, writing nothing.") var dryRun = false

    func run() async throws {
        var options = ContentImport.Options(uploads: mediaDirectory, dryRun: dryRun)
        guard let chosen = Visibility(rawValue: visibility) else { throw ValidationError("--visibility must be public, members or paid") }
        options.visibility = chosen
        for pair in kinds {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = ArticleKind(rawValue: parts[1]) else {
                throw ValidationError("--kind takes CATEGORY-SLUG=KIND, with KIND one of news, analysis, memo or report (got '\(pair)')")
            }
            options.kindCategories[parts[0]] = kind
        }
        let started = Date()
        let report = try await withApp(fillingSearchIndex: false) { app, settings in
            let report = try await WordPressImport.run(app, settings: settings, file: file, options: options) { step in
                ImportOutcome.progress(step)
            }
            if !dryRun && report.articles > 0 {
                _ = try await SearchMaintenance.reindex(app, following: true) { done, total in
                    Terminal.progress(done: done, total: total, label: "articles indexed")
                }
            }
            return report
        }
        ImportOutcome.say(report, extra: nil, nothingNew: report.createdNothing, dryRun: dryRun, started: started)
    }
}

/// `masthead import ghost FILE.json`: a Ghost export, content and members.
struct ImportGhost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghost",
        abstract: "Import a Ghost export (JSON, from Settings → Labs → Export): authors, public tags as topics, posts and their visibility, featured images, members with their paid (Stripe) or complimentary access, newsletters and who receives them. Running it again creates nothing twice."
    )

    @Argument(help: "The export file (.json).") var file: String
    @ArgumentParser.Option(name: .customLong("media-dir"), help: "A copy of the old site's content/images, for featured and inline images.") var mediaDirectory: String?
    @Flag(help: "Report what would be imported, and what could not be, writing nothing.") var dryRun = false

    func run() async throws {
        let options = ContentImport.Options(uploads: mediaDirectory, dryRun: dryRun)
        let started = Date()
        let (report, members) = try await withApp(fillingSearchIndex: false) { app, settings in
            let outcome = try await GhostImport.run(app, settings: settings, file: file, options: options) { step in
                ImportOutcome.progress(step)
            }
            if !dryRun && outcome.content.articles > 0 {
                _ = try await SearchMaintenance.reindex(app, following: true) { done, total in
                    Terminal.progress(done: done, total: total, label: "articles indexed")
                }
            }
            return outcome
        }
        let extra = "\(members.members) members (\(members.paid) paying through Stripe, \(members.comped) complimentary), \(members.newsletters) newsletters and \(members.subscribers) newsletter subscriptions"
        let nothingNew = report.createdNothing && members.members == 0 && members.newsletters == 0
        ImportOutcome.say(report, extra: extra, nothingNew: nothingNew, dryRun: dryRun, started: started)
    }
}

/// `masthead import substack PATH`: a Substack export, posts and email list.
struct ImportSubstack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "substack",
        abstract: "Import a Substack export (its ZIP, or the folder it unpacks to): posts with their audience and paywall, a redirect from each /p/slug, and the email list as members, paying ones with their Stripe subscriptions (looked up at Stripe when it is configured), comped and gifted ones with complimentary access, and everyone who gets email on one newsletter. Running it again creates nothing twice."
    )

    @Argument(help: "The export's .zip, or the folder holding posts.csv.") var path: String
    @ArgumentParser.Option(name: .customLong("site-url"), help: "The publication's address (https://example.substack.com), recorded as the origin of what is imported.") var siteURL: String = ""
    @ArgumentParser.Option(help: "The name whose byline the posts get (Substack's export names no author).") var author: String?
    @ArgumentParser.Option(help: "The address of the newsletter readers who receive email join: one of the site's, or a new one named after the site (without it, a new list at `newsletter`).") var newsletter: String?
    @ArgumentParser.Option(name: .customLong("media-dir"), help: "A folder of the publication's images, named as in their public/images/ addresses.") var mediaDirectory: String?
    @Flag(inversion: .prefixedNo, help: "Fetch the images posts show from Substack's servers when no --media-dir is given.") var fetchImages = true
    @Flag(help: "Report what would be imported, and what could not be, writing nothing.") var dryRun = false

    func run() async throws {
        let options = ContentImport.Options(uploads: mediaDirectory, dryRun: dryRun)
        let choices = SubstackImport.Choices(siteURL: siteURL, author: author, newsletterSlug: newsletter, fetchImages: fetchImages)
        let started = Date()
        let (report, members) = try await withApp(fillingSearchIndex: false) { app, settings in
            // Images are asked of Substack's own hosts only; a redirect could lead anywhere.
            app.http.client.configuration.redirectConfiguration = .disallow
            let outcome = try await SubstackImport.run(app, settings: settings, path: path, choices: choices, options: options) { step in
                ImportOutcome.progress(step)
            }
            if !dryRun && outcome.content.articles > 0 {
                _ = try await SearchMaintenance.reindex(app, following: true) { done, total in
                    Terminal.progress(done: done, total: total, label: "articles indexed")
                }
            }
            return outcome
        }
        let list = "the newsletter “\(newsletter ?? SubstackImport.defaultNewsletter)”" + (members.createdNewsletter ? " (new)" : "")
        let extra = "\(members.members) members (\(members.paid) paying through Stripe, \(members.complimentary) with complimentary access), \(members.subscribers) of them subscribed to \(list)"
        ImportOutcome.say(report, extra: extra, nothingNew: report.createdNothing && members.members == 0, dryRun: dryRun, started: started)
    }
}

/// What the content importers tell the person running them.
enum ImportOutcome {
    static func progress(_ step: ContentImport.Step) {
        switch step {
        case .lookingUpPayments(let done, let total): Terminal.progress(done: done, total: total, label: "paying readers looked up at Stripe")
        case .fetchingImages(let done, let total): Terminal.progress(done: done, total: total, label: "images fetched")
        case .converting(let done, let total): Terminal.progress(done: done, total: total, label: "items read")
        case .writing(let done, let total): Terminal.progress(done: done, total: total, label: "articles written")
        }
    }

    static func say(_ report: ContentImport.Report, extra: String?, nothingNew: Bool, dryRun: Bool, started: Date) {
        let what = "\(report.articles) articles (\(report.drafts) drafts), \(report.pages) pages, \(report.authors) authors, \(report.topics) topics, \(report.images) images and \(report.redirects) redirects from old addresses" + (extra.map { "; \($0)" } ?? "")
        if nothingNew {
            Terminal.say("Nothing new: everything in the export was imported before (\(report.importedBefore) items). Created nothing.")
        } else if dryRun {
            Terminal.say("Dry run: would import \(what). Wrote nothing.")
        } else {
            Terminal.say("Imported \(what) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
        }
        if !report.notMapped.isEmpty {
            Terminal.say("Not imported as it was (\(report.notMapped.count)):")
            for line in report.notMapped { Terminal.say("  - \(line)") }
        }
    }
}
