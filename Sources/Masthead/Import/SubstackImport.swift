import Fluent
import Foundation
import Vapor

/// `masthead import substack`: a Substack export into articles (with their audience as
/// visibility and their paywall where Substack put it), a redirect from each `/p/slug`, and
/// the email list as members with their paid, gifted or complimentary access, all in one
/// transaction, with a record of each item's origin.
public enum SubstackImport {
    /// The address of the list readers join when the operator names none.
    public static let defaultNewsletter = "newsletter"

    public struct Choices: Sendable {
        /// The publication's address (`https://example.substack.com`), kept as the origin of what is imported.
        public var siteURL = ""
        /// Whose byline the posts get; Substack's export does not say.
        public var author: String?
        /// The list readers who get Substack's emails join, by its address: one of the site's, or
        /// a new one named after the site. Without it, a new list at `newsletter`.
        public var newsletterSlug: String?
        /// Fetch the images posts show from Substack, when no copy of them is given.
        public var fetchImages = true
        var imageSource = SubstackImages.Source.substack

        public init(siteURL: String = "", author: String? = nil, newsletterSlug: String? = nil, fetchImages: Bool = true) {
            self.siteURL = siteURL
            self.author = author
            self.newsletterSlug = newsletterSlug
            self.fetchImages = fetchImages
        }
    }

    public struct Members: Sendable {
        public let members: Int
        public let paid: Int
        public let complimentary: Int
        public let subscribers: Int
        public let createdNewsletter: Bool
    }

    public static func run(
        _ app: Application, settings: Settings, path: String, choices: Choices, options: ContentImport.Options, now: Date = Date(),
        progress: @escaping @Sendable (ContentImport.Step) -> Void = { _ in }
    ) async throws -> (content: ContentImport.Report, members: Members) {
        guard choices.newsletterSlug.map(Slug.isValid) ?? true else { throw ImportError("--newsletter must be a list's address: lower-case letters, digits and hyphens") }
        var siteURL = choices.siteURL
        while siteURL.hasSuffix("/") { siteURL.removeLast() }
        guard siteURL.isEmpty || URL(string: siteURL).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) == true else {
            throw ImportError("--site-url must be the publication's address, such as https://example.substack.com")
        }
        let export = try SubstackExport.read(path)
        let (content, notes) = export.content(siteURL: siteURL, author: choices.author)
        let stripe = settings.billing.stripe.map { StripeProvider($0, app: app) }
        let people = try await SubstackMembersPlan(
            readers: export.readers, source: content.platform + ":" + siteURL, newsletter: choices.newsletterSlug, settings: settings,
            stripe: stripe, database: app.db, now: now, progress: progress
        )
        let rules = EntitlementRules(settings.billing)
        var options = options
        var notMapped = notes
        let wanted = choices.fetchImages && options.uploads == nil ? SubstackImages.wanted(in: content.posts, from: choices.imageSource) : [:]
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-substack-images-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        if !wanted.isEmpty {
            if options.dryRun {
                notMapped.append("\(wanted.count) images would be fetched from Substack (not in a dry run)")
            } else {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                options.missingUploads = await SubstackImages.fetch(wanted, into: scratch, client: app.http.client.shared, progress: progress)
                options.uploads = scratch
            }
        }
        var report = try await ContentImport.run(app, settings: settings, content: content, options: options, now: now, progress: progress) { database in
            try await people.write(on: database, rules: rules)
        }
        report.notMapped = notMapped + report.notMapped + people.notMapped
        report.importedBefore += people.importedBefore
        let members = Members(
            members: people.members.count, paid: people.paidMembers, complimentary: people.compedMembers, subscribers: people.subscribers,
            createdNewsletter: people.createsNewsletter
        )
        return (report, members)
    }
}
