import Fluent
import Foundation
import Vapor

/// A search as the reader asked for it in the page's address: the words, the filters, the page.
/// Anything malformed is a `SiteError` with a message in the reader's language.
struct SearchForm: Sendable {
    static let perPage = 20
    /// Beyond this, a reader refines the search rather than pages on.
    static let lastPage = 50

    var text = ""
    var kind: ArticleKind?
    var topicSlug: String?
    var authorSlug: String?
    var from: String?
    var to: String?
    var page = 1

    init() {}

    init(_ req: Request) throws {
        guard req.url.query != nil else { return }
        text = req.query[String.self, at: "q"] ?? ""
        kind = try Self.choice(req, "kind") { ArticleKind(rawValue: $0) }
        topicSlug = try Self.choice(req, "topic") { Slug.isValid($0) ? $0 : nil }
        authorSlug = try Self.choice(req, "author") { Slug.isValid($0) ? $0 : nil }
        from = Self.value(req, "from")
        to = Self.value(req, "to")
        if let typed = Self.value(req, "page") {
            guard let page = Int(typed), (1...Self.lastPage).contains(page) else { throw SiteError.badRequest(messageKey: "error_bad_page") }
            self.page = page
        }
    }

    /// The filters, with topics and authors looked up and dates read in the newsroom's time zone
    /// (`to` includes its whole day).
    func filters(edition: String, on database: any Database, timeZone: TimeZone) async throws -> SearchFilters {
        var filters = SearchFilters(edition: edition, kind: kind)
        let published = PublishedArticles(database: database)
        if let topicSlug {
            guard let topic = try await published.topic(slug: topicSlug) else { throw SiteError.badRequest(messageKey: "search_error_filter") }
            filters.topicID = topic.id
        }
        if let authorSlug {
            guard let author = try await published.author(slug: authorSlug) else { throw SiteError.badRequest(messageKey: "search_error_filter") }
            filters.authorID = author.id
        }
        filters.from = try from.map { try Self.day($0, timeZone: timeZone) }
        filters.until = try to.map { try Self.day($0, timeZone: timeZone).addingTimeInterval(86_400) }
        return filters
    }

    /// The address of this search at another page, or without one of its filters.
    func url(path: String, page: Int? = nil) -> String {
        var items: [URLQueryItem] = [URLQueryItem(name: "q", value: text)]
        if let kind { items.append(.init(name: "kind", value: kind.rawValue)) }
        if let topicSlug { items.append(.init(name: "topic", value: topicSlug)) }
        if let authorSlug { items.append(.init(name: "author", value: authorSlug)) }
        if let from { items.append(.init(name: "from", value: from)) }
        if let to { items.append(.init(name: "to", value: to)) }
        if let page, page > 1 { items.append(.init(name: "page", value: String(page))) }
        var components = URLComponents()
        components.path = path
        components.queryItems = items
        return components.string ?? path
    }

    /// The date as typed when it is a real day, for the form to show again; nil otherwise.
    static func wellFormedDay(_ text: String) -> String? {
        (try? day(text, timeZone: .gmt)) == nil ? nil : text
    }

    private static func value(_ req: Request, _ name: String) -> String? {
        guard let text = req.query[String.self, at: name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }

    private static func choice<T>(_ req: Request, _ name: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = value(req, name) else { return nil }
        guard let parsed = parse(text) else { throw SiteError.badRequest(messageKey: "search_error_filter") }
        return parsed
    }

    private static func day(_ text: String, timeZone: TimeZone) throws -> Date {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard text.count == 10, parts.count == 3, (1...9999).contains(parts[0]),
              let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
              calendar.component(.day, from: date) == parts[2], calendar.component(.month, from: date) == parts[1]
        else { throw SiteError.badRequest(messageKey: "search_error_date") }
        return date
    }
}
