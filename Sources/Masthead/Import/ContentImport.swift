import Fluent
import Foundation
import Vapor

/// What every importer of another platform's content shares: the operator's choices, what
/// an import reports, and the steps its progress bar shows.
public enum ContentImport {
    public struct Options: Sendable {
        /// A copy of the old site's uploads (`wp-content/uploads`, Ghost's `content/images`), for featured and inline images.
        public var uploads: String?
        /// Why an image is not in the uploads folder, by its path there, when the import knows.
        var missingUploads: [String: String] = [:]
        /// Categories (by slug) that say what kind of piece a post is, rather than what it is about.
        public var kindCategories: [String: ArticleKind] = [:]
        public var visibility: Visibility = .public
        public var dryRun = false

        public init(uploads: String? = nil, kindCategories: [String: ArticleKind] = [:], visibility: Visibility = .public, dryRun: Bool = false) {
            self.uploads = uploads
            self.kindCategories = kindCategories
            self.visibility = visibility
            self.dryRun = dryRun
        }

        static let kindNames: [String: ArticleKind] = [
            "news": .news, "analysis": .analysis, "analyses": .analysis, "memo": .memo, "memos": .memo, "report": .report, "reports": .report,
        ]

        func kind(ofCategory slug: String) -> ArticleKind? {
            kindCategories[slug] ?? Self.kindNames[slug.lowercased()]
        }
    }

    public struct Report: Sendable {
        public var articles = 0
        public var drafts = 0
        /// Standing pages (about us, contact).
        public var pages = 0
        public var authors = 0
        public var topics = 0
        public var images = 0
        public var redirects = 0
        /// Items imported by an earlier run, left as they are.
        public var importedBefore = 0
        /// What could not be brought across, one line per item.
        public var notMapped: [String] = []

        public var createdNothing: Bool { articles == 0 && pages == 0 && authors == 0 && topics == 0 }
    }

    public enum Step: Sendable {
        case lookingUpPayments(done: Int, total: Int)
        case fetchingImages(done: Int, total: Int)
        case converting(done: Int, total: Int)
        case writing(done: Int, total: Int)
    }

    /// Plans the content, then (unless this is a dry run) writes it in one transaction, with
    /// whatever else the platform brings (members) written by `alongside` in the same one.
    static func run(
        _ app: Application, settings: Settings, content: ImportedContent, options: Options, now: Date,
        progress: @escaping @Sendable (Step) -> Void,
        alongside: @escaping @Sendable (any Database) async throws -> Void = { _ in }
    ) async throws -> Report {
        if let uploads = options.uploads {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: uploads, isDirectory: &isFolder), isFolder.boolValue else {
                throw ImportError("the uploads folder \(uploads) does not exist")
            }
        }
        var plan = try await ContentPlan(export: content, settings: settings, options: options, database: app.db, now: now)
        try await plan.convertPosts(progress: progress)
        if options.dryRun { return plan.report }
        let prepared = plan
        try await app.db.writeTransaction { database in
            try await prepared.write(on: database, progress: progress)
            try await alongside(database)
            if prepared.report.articles > 0 || prepared.report.pages > 0 {
                try await ContentGeneration.bump(on: database, purging: .everything)
                _ = try await SearchRebuilds(database: database).request(by: SiteImport.requester)
            }
        }
        return plan.report
    }
}
