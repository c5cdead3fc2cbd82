import Fluent
import Foundation
import SQLKit

/// The Content API's answers: published articles, authors, topics and editions as JSON
/// documents, with gated bodies decided by `AccessPolicy` for the integration's kind of reader.
struct ContentAPI {
    static let articleFields = [
        "id", "slug", "edition", "kind", "visibility", "title", "dek", "url", "published_at", "updated_at",
        "authors", "topics", "image", "access", "html",
    ]
    static let articleParameters = ["page", "limit", "fields", "edition", "kind", "visibility", "topic", "author", "since", "slug", "q"]
    static let listParameters = ["page", "limit"]

    let database: any Database
    let editions: EditionCatalog
    let settings: Settings
    let catalog: SearchCatalog
    let viewer: Viewer
    let now: Date

    func articles(_ query: APIQuery) async throws -> [String: Any] {
        let page = try query.integer("page", default: 1, in: 1...100_000)
        let limit = try query.integer("limit", default: 15, in: 1...100)
        let fields = try query.fields(of: Self.articleFields)
        if let words = query.string("q") { return try await searched(words, query, page: page, limit: limit, fields: fields) }
        var articles = published()
        if let code = try edition(query) { articles = articles.filter(\.$edition == code) }
        if let kind = try query.choice("kind", of: ArticleKind.self) { articles = articles.filter(\.$kind == kind) }
        if let visibility = try query.choice("visibility", of: Visibility.self) { articles = articles.filter(\.$visibility == visibility) }
        if let since = try query.date("since") { articles = articles.filter(\.$publishedAt >= since) }
        if let slug = try query.slug("slug") { articles = articles.filter(\.$slug == slug) }
        if let slug = try query.slug("topic") {
            let topic = try await Topic.query(on: database).filter(\.$slug == slug).first()
            articles = articles.join(ArticleTopic.self, on: \Article.$id == \ArticleTopic.$article.$id)
                .filter(ArticleTopic.self, \.$topic.$id == (topic?.id ?? UUID()))
        }
        if let slug = try query.slug("author") {
            let author = try await Author.query(on: database).filter(\.$slug == slug).first()
            articles = articles.join(ArticleAuthor.self, on: \Article.$id == \ArticleAuthor.$article.$id)
                .filter(ArticleAuthor.self, \.$author.$id == (author?.id ?? UUID()))
        }
        let total = try await articles.copy().count()
        let rows = try await withRelations(articles)
            .sort(\.$publishedAt, .descending).sort(\.$id, .descending)
            .range(((page - 1) * limit)..<(page * limit))
            .all()
        var resources: [[String: Any]] = []
        for article in rows { resources.append(try await resource(article, fields: fields)) }
        return ["articles": resources, "meta": ["pagination": Self.pagination(page: page, limit: limit, total: total)]]
    }

    /// Articles matching `q`, best first, as the search page finds them for the same reader:
    /// through the index, with topics' other names, and only by words this reader may read.
    private func searched(_ words: String, _ query: APIQuery, page: Int, limit: Int, fields: Set<String>?) async throws -> [String: Any] {
        let typed: SearchQuery
        do { typed = try SearchQuery(words) } catch { throw APIError.badParameter(name: "q", message: "is longer than any search: at most \(SearchQuery.maximumLength) characters") }
        var filters = SearchFilters(
            edition: try edition(query), kind: try query.choice("kind", of: ArticleKind.self),
            visibility: try query.choice("visibility", of: Visibility.self), from: try query.date("since")
        )
        if let slug = try query.slug("slug") { filters.articleID = try await published().filter(\.$slug == slug).first()?.id ?? UUID() }
        if let slug = try query.slug("topic") { filters.topicID = try await Topic.query(on: database).filter(\.$slug == slug).first()?.id ?? UUID() }
        if let slug = try query.slug("author") { filters.authorID = try await Author.query(on: database).filter(\.$slug == slug).first()?.id ?? UUID() }
        let widened = typed.widened(by: try await catalog.vocabulary(on: database))
        let found = try await SearchRanking.search(
            widened, filters: filters, audience: .reader(viewer), now: now, offset: (page - 1) * limit, limit: limit,
            index: SearchIndexes.forDatabase(database), on: database as! any SQLDatabase
        )
        let ids = found.hits.map(\.articleID)
        let loaded = ids.isEmpty ? [] : try await withRelations(published().filter(\.$id ~~ ids)).all()
        var resources: [[String: Any]] = []
        for id in ids {
            guard let article = loaded.first(where: { $0.id == id }) else { continue }
            resources.append(try await resource(article, fields: fields))
        }
        var pagination = Self.pagination(page: page, limit: limit, total: found.total)
        pagination["more"] = found.more
        return ["articles": resources, "meta": ["pagination": pagination]]
    }

    private func edition(_ query: APIQuery) throws -> String? {
        guard let code = query.string("edition") else { return nil }
        guard (2...3).contains(code.count), code.allSatisfy({ $0.isASCII && $0.isLowercase }) else {
            throw APIError.badParameter(name: "edition", message: "must be an edition's code, such as \(editions.all.map(\.code).joined(separator: " or "))")
        }
        return code
    }

    func article(id: UUID, _ query: APIQuery) async throws -> [String: Any] {
        let fields = try query.fields(of: Self.articleFields)
        guard let article = try await withRelations(published().filter(\.$id == id)).first() else { throw APIError.notFound }
        return ["articles": [try await resource(article, fields: fields)]]
    }

    func authors(_ query: APIQuery) async throws -> [String: Any] {
        let page = try query.integer("page", default: 1, in: 1...100_000)
        let limit = try query.integer("limit", default: 15, in: 1...100)
        let authors = try await withPublished(Author.query(on: database).sort(\.$name).sort(\.$id).all(), link: ArticleAuthor.schema, column: "author_id")
        return ["authors": Self.slice(authors, page: page, limit: limit).map(resource), "meta": ["pagination": Self.pagination(page: page, limit: limit, total: authors.count)]]
    }

    func author(slug: String) async throws -> [String: Any] {
        guard Slug.isValid(slug), let author = try await withPublished(
            Author.query(on: database).filter(\.$slug == slug).all(), link: ArticleAuthor.schema, column: "author_id"
        ).first else { throw APIError.notFound }
        return ["authors": [resource(author)]]
    }

    func topics(_ query: APIQuery) async throws -> [String: Any] {
        let page = try query.integer("page", default: 1, in: 1...100_000)
        let limit = try query.integer("limit", default: 15, in: 1...100)
        var topics = Topic.query(on: database)
        if let kind = try query.choice("kind", of: TopicKind.self) { topics = topics.filter(\.$kind == kind) }
        let found = try await withPublished(topics.with(\.$names).sort(\.$slug).all(), link: ArticleTopic.schema, column: "topic_id")
        return ["topics": Self.slice(found, page: page, limit: limit).map(resource), "meta": ["pagination": Self.pagination(page: page, limit: limit, total: found.count)]]
    }

    func topic(slug: String) async throws -> [String: Any] {
        guard Slug.isValid(slug), let topic = try await withPublished(
            Topic.query(on: database).filter(\.$slug == slug).with(\.$names).all(), link: ArticleTopic.schema, column: "topic_id"
        ).first else { throw APIError.notFound }
        return ["topics": [resource(topic)]]
    }

    func editionList() -> [String: Any] {
        ["editions": editions.all.map { edition -> [String: Any] in
            [
                "code": edition.code, "name": edition.name, "direction": edition.direction.rawValue, "locale": edition.locale,
                "default": edition.isDefault, "url": settings.publicURL + SiteURL(edition: edition).home,
            ]
        }]
    }

    /// Only the topics or authors with a published article: one made for an embargoed story
    /// stays out of sight until the story is out, as on the site and in the sitemaps. Topics and
    /// authors number in the hundreds or thousands, so they are filtered and paged in memory.
    private func withPublished<Record: Model>(_ records: [Record], link: String, column: String) async throws -> [Record] where Record.IDValue == UUID {
        let sql = database as! any SQLDatabase
        let rows = try await sql.select().distinct()
            .column(SQLColumn(column, table: link))
            .from(link)
            .join(Article.schema, on: SQLColumn("id", table: Article.schema), .equal, SQLColumn("article_id", table: link))
            .where(SQLColumn("status", table: Article.schema), .equal, SQLBind(ArticleStatus.published.rawValue))
            .where(SQLColumn("published_at", table: Article.schema), .lessThanOrEqual, SQLBind(now))
            .all()
        let ids = Set(try rows.map { try $0.decode(column: column, as: UUID.self) })
        return records.filter { $0.id.map(ids.contains) ?? false }
    }

    private static func slice<T>(_ records: [T], page: Int, limit: Int) -> ArraySlice<T> {
        let start = min(records.count, (page - 1) * limit)
        return records[start..<min(records.count, start + limit)]
    }

    private func published() -> QueryBuilder<Article> {
        Article.query(on: database).filter(\.$status == .published).filter(\.$publishedAt <= now)
    }

    private func withRelations(_ query: QueryBuilder<Article>) -> QueryBuilder<Article> {
        query.with(\.$authorCredits) { $0.with(\.$author) }
            .with(\.$topicLinks) { $0.with(\.$topic) { $0.with(\.$names) } }
    }

    private func resource(_ article: Article, fields: Set<String>?) async throws -> [String: Any] {
        let edition = editions[article.edition] ?? editions.defaultEdition
        let urls = SiteURL(edition: edition)
        let publicURL = settings.publicURL
        let wants = { (field: String) in fields?.contains(field) ?? true }
        var resource: [String: Any] = [:]
        if wants("id") { resource["id"] = article.id?.uuidString.lowercased() ?? "" }
        if wants("slug") { resource["slug"] = article.slug }
        if wants("edition") { resource["edition"] = article.edition }
        if wants("kind") { resource["kind"] = article.kind.rawValue }
        if wants("visibility") { resource["visibility"] = article.visibility.rawValue }
        if wants("title") { resource["title"] = article.title }
        if wants("dek") { resource["dek"] = article.dek }
        if wants("url") { resource["url"] = publicURL + urls.article(article.slug) }
        if wants("published_at") { resource["published_at"] = article.publishedAt.map(EditionDates.iso) ?? NSNull() }
        if wants("updated_at") { resource["updated_at"] = article.lastModified.map(EditionDates.iso) ?? NSNull() }
        if wants("authors") {
            resource["authors"] = article.bylineAuthors.map { ["slug": $0.slug, "name": $0.name, "url": publicURL + urls.author($0.slug)] }
        }
        if wants("topics") {
            resource["topics"] = article.topics.map {
                ["slug": $0.slug, "kind": $0.kind.rawValue, "name": $0.name(in: edition.code), "url": publicURL + urls.topic($0.slug)]
            }
        }
        if wants("image") {
            resource["image"] = article.imagePath.map { path -> [String: Any] in
                [
                    "url": publicURL + SiteURL.media(path), "width": article.imageWidth ?? NSNull(), "height": article.imageHeight ?? NSNull(),
                    "alt": article.imageAlt, "caption": article.imageCaption, "credit": article.imageCredit,
                ]
            } ?? NSNull()
        }
        if wants("access") || wants("html") {
            let access = AccessPolicy.decide(article: article, viewer: viewer, meter: .none)
            if wants("access") { resource["access"] = access.isFull ? "full" : "preview" }
            if wants("html") {
                var html = article.previewHTML
                if let rest = try await article.gatedText(for: access, on: database) { html += rest.html }
                resource["html"] = HTMLText.absoluteLinks(html, publicURL: publicURL)
            }
        }
        return resource
    }

    private func resource(_ author: Author) -> [String: Any] {
        [
            "id": author.id?.uuidString.lowercased() ?? "", "slug": author.slug, "name": author.name, "bio": author.bio,
            "photo": author.photoPath.map { settings.publicURL + SiteURL.media($0) } ?? NSNull(),
            "url": settings.publicURL + SiteURL(edition: editions.defaultEdition).author(author.slug),
        ]
    }

    private func resource(_ topic: Topic) -> [String: Any] {
        [
            "id": topic.id?.uuidString.lowercased() ?? "", "slug": topic.slug, "kind": topic.kind.rawValue,
            "name": topic.name(in: editions.defaultEdition.code),
            "names": Dictionary(topic.names.map { ($0.edition, $0.name) }, uniquingKeysWith: { first, _ in first }),
            "url": settings.publicURL + SiteURL(edition: editions.defaultEdition).topic(topic.slug),
        ]
    }

    static func pagination(page: Int, limit: Int, total: Int) -> [String: Any] {
        let pages = max(1, (total + limit - 1) / limit)
        return [
            "page": page, "limit": limit, "pages": pages, "total": total,
            "next": page < pages ? page + 1 : NSNull(), "prev": page > 1 ? min(page - 1, pages) : NSNull(),
        ]
    }
}
