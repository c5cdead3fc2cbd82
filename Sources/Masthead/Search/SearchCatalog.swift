import Fluent
import Foundation
import SQLKit
import Synchronization

/// What the filters offer in an edition: its topics and authors that have a published article
/// there, by name. A topic or byline made for an embargoed story stays out of sight.
struct SearchChoices: Sendable {
    let topics: [(slug: String, name: String)]
    let authors: [(slug: String, name: String)]
    let topicIDs: Set<UUID>
}

/// What search knows besides the index, built once per content generation (topics, authors and
/// what is published change only with a bump): the names vocabulary, and each edition's choices.
final class SearchCatalog: Sendable {
    private struct Built {
        let generation: Int64
        var vocabulary: NameVocabulary?
        var choices: [String: SearchChoices] = [:]
    }

    private let generation: @Sendable () -> Int64
    private let built = Mutex<Built>(Built(generation: -1))

    init(generation: @escaping @Sendable () -> Int64) {
        self.generation = generation
    }

    func vocabulary(on database: any Database) async throws -> NameVocabulary {
        let now = generation()
        if let vocabulary = current(now)?.vocabulary { return vocabulary }
        let vocabulary = try await Self.buildVocabulary(on: database)
        store(now) { $0.vocabulary = vocabulary }
        return vocabulary
    }

    /// The choices of an edition, or of every edition for `nil`.
    func choices(edition: String?, on database: any Database) async throws -> SearchChoices {
        let now = generation(), key = edition ?? ""
        if let choices = current(now)?.choices[key] { return choices }
        let choices = try await Self.buildChoices(edition: edition, on: database)
        store(now) { $0.choices[key] = choices }
        return choices
    }

    private func current(_ generation: Int64) -> Built? {
        built.withLock { $0.generation == generation ? $0 : nil }
    }

    private func store(_ generation: Int64, _ change: (inout Built) -> Void) {
        built.withLock { built in
            if built.generation != generation { built = Built(generation: generation) }
            change(&built)
        }
    }

    private static func buildVocabulary(on database: any Database) async throws -> NameVocabulary {
        let topics = try await Topic.query(on: database).with(\.$names).all()
        let authors = try await Author.query(on: database).all()
        return NameVocabulary(
            topics: topics.compactMap { topic in
                topic.id.map { NameVocabulary.TopicNames(topicID: $0, names: (topic.names.map(\.name) + topic.aliasList).map(SearchText.tokens)) }
            },
            authorNames: authors.map { SearchText.tokens($0.name) }
        )
    }

    private static func buildChoices(edition: String?, on database: any Database) async throws -> SearchChoices {
        let topicIDs = try await publishedIDs(link: ArticleTopic.schema, column: "topic_id", edition: edition, on: database)
        let authorIDs = try await publishedIDs(link: ArticleAuthor.schema, column: "author_id", edition: edition, on: database)
        let collator = Locale(identifier: edition ?? "en")
        let topics = try await Topic.query(on: database).filter(\.$id ~~ topicIDs).with(\.$names).all()
            .map { (slug: $0.slug, name: $0.name(in: edition ?? "en")) }
            .sorted { $0.name.compare($1.name, locale: collator) == .orderedAscending }
        let authors = try await Author.query(on: database).filter(\.$id ~~ authorIDs).all()
            .map { (slug: $0.slug, name: $0.name) }
            .sorted { $0.name.compare($1.name, locale: collator) == .orderedAscending }
        return SearchChoices(topics: topics, authors: authors, topicIDs: Set(topicIDs))
    }

    private static func publishedIDs(link: String, column: String, edition: String?, on database: any Database) async throws -> [UUID] {
        let sql = database as! any SQLDatabase
        let inEdition: SQLQueryString = edition.map { " AND a.edition = \(bind: $0)" } ?? ""
        let rows = try await sql.raw("""
            SELECT DISTINCT l.\(ident: column) AS id FROM \(ident: link) l JOIN articles a ON a.id = l.article_id
            WHERE a.status = \(bind: ArticleStatus.published.rawValue)\(inEdition)
            """).all()
        return try rows.map { try $0.decode(column: "id", as: UUID.self) }
    }
}
