import Fluent
import Foundation

/// An author's credit on an article, in byline order.
public final class ArticleAuthor: Model, @unchecked Sendable {
    public static let schema = "article_authors"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "article_id") public var article: Article
    @Parent(key: "author_id") public var author: Author
    @Field(key: "position") public var position: Int

    public init() {}

    public init(articleID: UUID, authorID: UUID, position: Int) {
        self.$article.id = articleID
        self.$author.id = authorID
        self.position = position
    }
}

public final class ArticleTopic: Model, @unchecked Sendable {
    public static let schema = "article_topics"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "article_id") public var article: Article
    @Parent(key: "topic_id") public var topic: Topic

    public init() {}

    public init(articleID: UUID, topicID: UUID) {
        self.$article.id = articleID
        self.$topic.id = topicID
    }
}
