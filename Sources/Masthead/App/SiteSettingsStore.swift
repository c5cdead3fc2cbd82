import Fluent
import Foundation
import SQLKit
import Synchronization

/// The site settings admins change in the admin; nil means "as configured in the environment".
public struct SiteSettingsValues: Codable, Equatable, Sendable {
    public struct Link: Codable, Equatable, Sendable {
        public var label: String
        public var url: String
    }

    public var siteName: String?
    public var membershipPrice: String?
    public var previewParagraphs: Int?
    public var memberMeter: Int?
    public var anonymousMeter: Int?
    public var logoPath: String?
    public var navigation: [Link]?
    /// An IANA time zone identifier, such as `Asia/Beirut`.
    public var timeZone: String?
    /// Kinds of article whose comments are closed unless an article opens them (all are open
    /// when unset).
    public var commentsClosedKinds: [String]?
    /// Words that hold a comment for a moderator, matched case-insensitively as whole words.
    public var commentWords: [String]?

    public init() {}
}

/// This instance's copy of the stored site settings, refreshed whenever the content generation
/// moves (saving settings bumps it), so every instance follows within one poll.
public final class LiveSiteSettings: Sendable {
    private let values = Mutex(SiteSettingsValues())

    public var current: SiteSettingsValues { values.withLock { $0 } }

    func adopt(_ new: SiteSettingsValues) {
        values.withLock { $0 = new }
    }
}

/// Reads and writes the site settings, stored as one JSON document in `site_settings`.
enum SiteSettingsStore {
    static let key = "site"

    static func load(on database: any Database) async throws -> SiteSettingsValues {
        let row = try await (database as! any SQLDatabase).select().column("value").from("site_settings")
            .where("key", .equal, key).first()
        guard let text = try row?.decode(column: "value", as: String.self) else { return SiteSettingsValues() }
        return try JSONDecoder().decode(SiteSettingsValues.self, from: Data(text.utf8))
    }

    /// Why stored settings (from an import, say) could not be the admin's own: nil when they could.
    static func problem(with json: String) -> String? {
        guard let values = try? JSONDecoder().decode(SiteSettingsValues.self, from: Data(json.utf8)) else {
            return "the site's settings are not the JSON Masthead writes"
        }
        if let links = values.navigation, case .failure(let problem) = SettingsController.navigation(links.map { "\($0.label) | \($0.url)" }.joined(separator: "\n")) {
            return problem.message
        }
        if let logo = values.logoPath, !MediaFileName.isValid(logo) { return "the logo \(logo) is not a media file name" }
        if let zone = values.timeZone, TimeZone(identifier: zone) == nil { return "\(zone) is not a time zone" }
        return nil
    }

    static func save(_ values: SiteSettingsValues, on database: any Database) async throws {
        let json = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        let sql = database as! any SQLDatabase
        try await sql.delete(from: "site_settings").where("key", .equal, key).run()
        try await sql.insert(into: "site_settings").columns("key", "value").values(SQLBind(key), SQLBind(json)).run()
    }
}
