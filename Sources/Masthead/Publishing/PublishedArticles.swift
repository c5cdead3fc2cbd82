import Fluent
import Foundation

/// The queries behind every public page: only published articles whose time has come,
/// newest first, with what a card or a page shows already loaded.
public struct PublishedArticles: Sendable {
    public struct Page: Sendable {
        public let articles: [Article]
        public let page: Int
        public let pageCount: Int
    }

    let database: any Database
    let now: Date

    public init(database: any Database, now: Date = Date()) {
        self.database = database
        self.now = now
    }

    public func article(edition: String, slug: String) async throws -> Article? {
        try await visible(edition: edition)
            .filter(\.$slug == slug)
            .with(\.$topicLinks) { $0.with(\.$topic) { $0.with(\.$names) } }
            .with(\.$corrections)
            .first()
    }

    /// The current slug of a published article that used to live at `slug`, for a redirect.
    public func movedSlug(edition: String, slug: String) async throws -> String? {
        guard let redirect = try await SlugRedirect.query(on: database)
            .filter(\.$edition == edition).filter(\.$slug == slug).with(\.$article).first()
        else { return nil }
        let article = redirect.article
        guard article.edition == edition, article.status == .published, article.publishedAt.map({ $0 <= now }) == true else { return nil }
        return article.slug
    }

    /// Just enough to decide access before the page cache is asked: id and visibility.
    public func gate(edition: String, slug: String) async throws -> (id: UUID, visibility: Visibility)? {
        guard let article = try await Article.query(on: database)
            .filter(\.$edition == edition).filter(\.$slug == slug)
            .filter(\.$status == .published).filter(\.$publishedAt <= now)
            .field(\.$id).field(\.$visibility)
            .first(), let id = article.id else { return nil }
        return (id, article.visibility)
    }

    public func latest(edition: String, kind: ArticleKind? = nil, limit: Int, excluding: [UUID] = []) async throws -> [Article] {
        var query = visible(edition: edition)
        if let kind { query = query.filter(\.$kind == kind) }
        if !excluding.isEmpty { query = query.filter(\.$id !~ excluding) }
        return try await query.sort(\.$publishedAt, .descending).limit(limit).all()
    }

    public func listing(edition: String, kind: ArticleKind, page: Int, per: Int) async throws -> Page {
        try await paginate(visible(edition: edition).filter(\.$kind == kind), page: page, per: per)
    }

    public func listing(edition: String, topicID: UUID, page: Int, per: Int) async throws -> Page {
        let query = visible(edition: edition)
            .join(ArticleTopic.self, on: \Article.$id == \ArticleTopic.$article.$id)
            .filter(ArticleTopic.self, \.$topic.$id == topicID)
        return try await paginate(query, page: page, per: per)
    }

    public func listing(edition: String, authorID: UUID, page: Int, per: Int) async throws -> Page {
        let query = visible(edition: edition)
            .join(ArticleAuthor.self, on: \Article.$id == \ArticleAuthor.$article.$id)
            .filter(ArticleAuthor.self, \.$author.$id == authorID)
        return try await paginate(query, page: page, per: per)
    }

    /// Articles sharing a topic with this one, newest first.
    public func related(to article: Article, limit: Int) async throws -> [Article] {
        let topicIDs = article.topicLinks.map { $0.$topic.id }
        guard !topicIDs.isEmpty, let id = article.id else { return [] }
        let links = try await ArticleTopic.query(on: database)
            .filter(\.$topic.$id ~~ topicIDs)
            .filter(\.$article.$id != id)
            .all()
        let candidates = Array(Set(links.map { $0.$article.id }))
        guard !candidates.isEmpty else { return [] }
        return try await visible(edition: article.edition)
            .filter(\.$id ~~ candidates)
            .sort(\.$publishedAt, .descending)
            .limit(limit)
            .all()
    }

    /// The other editions' versions of an article.
    public func translations(of article: Article) async throws -> [Article] {
        guard let group = article.translationGroup else { return [] }
        return try await Article.query(on: database)
            .filter(\.$translationGroup == group)
            .filter(\.$edition != article.edition)
            .filter(\.$status == .published)
            .filter(\.$publishedAt <= now)
            .all()
    }

    public func topic(slug: String) async throws -> Topic? {
        try await Topic.query(on: database).filter(\.$slug == slug).with(\.$names).first()
    }

    /// The edition of the newest published article filed under a topic.
    public func anyEdition(topicID: UUID) async throws -> String? {
        try await visible(edition: nil)
            .join(ArticleTopic.self, on: \Article.$id == \ArticleTopic.$article.$id)
            .filter(ArticleTopic.self, \.$topic.$id == topicID)
            .sort(\.$publishedAt, .descending).first()?.edition
    }

    public func author(slug: String) async throws -> Author? {
        try await Author.query(on: database).filter(\.$slug == slug).first()
    }

    /// The newest articles of a feed, with their topics loaded for its categories: of every
    /// edition when `edition` is nil, narrowed to a kind, a topic or an author when given.
    public func feed(edition: String?, kind: ArticleKind? = nil, topicID: UUID? = nil, authorID: UUID? = nil, limit: Int) async throws -> [Article] {
        var query = visible(edition: edition)
            .with(\.$topicLinks) { $0.with(\.$topic) { $0.with(\.$names) } }
        if let kind { query = query.filter(\.$kind == kind) }
        if let topicID {
            query = query.join(ArticleTopic.self, on: \Article.$id == \ArticleTopic.$article.$id)
                .filter(ArticleTopic.self, \.$topic.$id == topicID)
        }
        if let authorID {
            query = query.join(ArticleAuthor.self, on: \Article.$id == \ArticleAuthor.$article.$id)
                .filter(ArticleAuthor.self, \.$author.$id == authorID)
        }
        return try await query.sort(\.$publishedAt, .descending).limit(limit).all()
    }

    private func visible(edition: String?) -> QueryBuilder<Article> {
        var query = Article.query(on: database)
        if let edition { query = query.filter(\.$edition == edition) }
        return query
            .filter(\.$status == .published)
            .filter(\.$publishedAt <= now)
            .with(\.$authorCredits) { $0.with(\.$author) }
    }

    private func paginate(_ query: QueryBuilder<Article>, page: Int, per: Int) async throws -> Page {
        let total = try await query.copy().count()
        let pageCount = max(1, (total + per - 1) / per)
        guard page <= pageCount else { throw SiteError.notFound }
        let articles = try await query
            .sort(\.$publishedAt, .descending)
            .range(((page - 1) * per)..<(page * per))
            .all()
        return Page(articles: articles, page: page, pageCount: pageCount)
    }
}

extension Article {
    /// Authors in byline order (requires `authorCredits` with their authors loaded).
    public var bylineAuthors: [Author] {
        authorCredits.sorted { $0.position < $1.position }.map(\.author)
    }

    /// Topics in one order on every page and feed: the links themselves come back in whatever order
    /// the database finds them.
    public var topics: [Topic] {
        topicLinks.map(\.topic).sorted { $0.slug < $1.slug }
    }
}
