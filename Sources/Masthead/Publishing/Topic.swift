import Fluent
import Foundation

/// A country, person, organisation or theme that articles are filed under.
/// Its name and description are kept per edition in `TopicName`.
public final class Topic: Model, @unchecked Sendable {
    public static let schema = "topics"

    @ID(key: .id) public var id: UUID?
    @Field(key: "slug") public var slug: String
    @Enum(key: "kind") public var kind: TopicKind
    /// Other names and spellings readers search for, one per line, in any script
    /// ("Suleimani", "سلیمانی"): filed in the search index with the topic's articles.
    @Field(key: "aliases") public var aliases: String
    @Children(for: \.$topic) public var names: [TopicName]
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}

    public init(slug: String, kind: TopicKind, aliases: [String] = []) {
        self.slug = slug
        self.kind = kind
        self.aliases = aliases.joined(separator: "\n")
    }

    public var aliasList: [String] {
        aliases.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The name in the given edition, else in any edition, else the slug.
    public func name(in edition: String) -> String {
        localized(in: edition)?.name ?? slug
    }

    public func description(in edition: String) -> String {
        localized(in: edition)?.description ?? ""
    }

    private func localized(in edition: String) -> TopicName? {
        let names = $names.value ?? []
        return names.first { $0.edition == edition } ?? names.first
    }
}

public final class TopicName: Model, @unchecked Sendable {
    public static let schema = "topic_names"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "topic_id") public var topic: Topic
    @Field(key: "edition") public var edition: String
    @Field(key: "name") public var name: String
    @Field(key: "description") public var description: String

    public init() {}

    public init(topicID: UUID, edition: String, name: String, description: String) {
        self.$topic.id = topicID
        self.edition = edition
        self.name = name
        self.description = description
    }
}
