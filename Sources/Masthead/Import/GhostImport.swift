import Fluent
import Foundation
import Vapor

/// `masthead import ghost`: a Ghost export into authors, topics (public tags), articles with
/// their visibility, featured images and captions, and members with their access and
/// newsletters, all in one transaction, with a record of each item's origin.
public enum GhostImport {
    public struct Members: Sendable {
        public let members: Int
        public let paid: Int
        public let comped: Int
        public let newsletters: Int
        public let subscribers: Int
    }

    public static func run(
        _ app: Application, settings: Settings, file: String, options: ContentImport.Options, now: Date = Date(),
        progress: @escaping @Sendable (ContentImport.Step) -> Void = { _ in }
    ) async throws -> (content: ContentImport.Report, members: Members) {
        guard let data = FileManager.default.contents(atPath: file) else { throw ImportError("cannot read \(file)") }
        let export = try GhostExport.read(data)
        let content = export.content(siteURL: "")
        let people = try await GhostMembersPlan(export: export, source: content.platform + ":", settings: settings, database: app.db, now: now)
        let rules = EntitlementRules(settings.billing)
        var report = try await ContentImport.run(app, settings: settings, content: content, options: options, now: now, progress: progress) { database in
            try await people.write(on: database, rules: rules)
        }
        report.notMapped += people.notMapped
        report.importedBefore += people.importedBefore
        let members = Members(
            members: people.members.count, paid: people.paidMembers, comped: people.compedMembers,
            newsletters: people.newsletters.count, subscribers: people.subscribers
        )
        return (report, members)
    }
}
