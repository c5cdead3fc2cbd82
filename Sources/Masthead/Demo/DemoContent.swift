import Fluent
import Foundation

/// Loads the demo newsroom (authors, topics, about forty articles in English and Arabic) into an
/// empty database, all in one transaction: a failure leaves the database as it was.
public enum DemoContent {
    /// The editions the demo newsroom publishes in, which `masthead demo` runs unless told otherwise.
    public static let editions = ["en", "ar", "fa", "tr"]
    /// Who the demo's first revisions name.
    static let importer = "Demo import"

    struct AuthorFile: Decodable {
        let slug: String
        let name: String
        let bio: String
        let bios: [String: String]?
    }

    struct TopicFile: Decodable {
        let slug: String
        let kind: TopicKind
        let names: [String: String]
        let description: [String: String]
        let aliases: [String]?
    }

    struct ArticleFile: Decodable {
        struct Image: Decodable {
            let caption: String
            let credit: String
            let alt: String
        }

        let slug: String
        let edition: String
        let kind: ArticleKind
        let visibility: Visibility
        let title: String
        let dek: String
        let publishedAt: Date
        let updatedAt: Date?
        let authors: [String]
        let topics: [String]
        let image: Image
        let translationOf: String?
        let body: String
        let live: DemoLiveStories.LiveFile?
    }

    /// Loads the demo when the database has no articles yet; returns how many articles it added.
    @discardableResult
    public static func loadIfEmpty(on database: any Database, settings: Settings) async throws -> Int {
        guard try await Article.query(on: database).count() == 0 else { return 0 }
        let content = try read()
        try FileManager.default.createDirectory(atPath: settings.mediaDirectory, withIntermediateDirectories: true)
        return try await database.writeTransaction { db in
            let loaded = try await insert(content, on: db, settings: settings)
            try await DemoPlans.insertIfNone(on: db)
            try await DemoNewsletters.insertIfNone(on: db, settings: settings)
            try await DemoPages.insertIfNone(on: db, settings: settings)
            try await ContentGeneration.bump(on: db, purging: .everything)
            return loaded
        }
    }

    static func read() throws -> (authors: [AuthorFile], topics: [TopicFile], articles: [ArticleFile]) {
        guard let folder = Bundle.module.url(forResource: "Content", withExtension: nil) else {
            throw StartupError("the demo content is missing from this build")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        func decode<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
            do {
                return try decoder.decode(type, from: Data(contentsOf: url))
            } catch {
                throw StartupError("demo file \(url.lastPathComponent) is invalid: \(error)")
            }
        }
        let articleFolder = folder.appendingPathComponent("articles")
        let articleFiles = try FileManager.default.contentsOfDirectory(atPath: articleFolder.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return (
            try decode([AuthorFile].self, folder.appendingPathComponent("authors.json")),
            try decode([TopicFile].self, folder.appendingPathComponent("topics.json")),
            try articleFiles.map { try decode(ArticleFile.self, articleFolder.appendingPathComponent($0)) }
        )
    }

    private static func insert(
        _ content: (authors: [AuthorFile], topics: [TopicFile], articles: [ArticleFile]),
        on db: any Database, settings: Settings
    ) async throws -> Int {
        var authors: [String: UUID] = [:]
        let authorNames = Dictionary(content.authors.map { ($0.slug, $0.name) }, uniquingKeysWith: { first, _ in first })
        for file in content.authors {
            let photo = "author-\(file.slug).svg"
            try write(DemoImages.avatar(name: file.name, seed: file.slug), named: photo, settings: settings)
            let author = Author(slug: file.slug, name: file.name, bio: file.bio, photoPath: photo)
            author.bios = file.bios ?? [:]
            try await author.create(on: db)
            authors[file.slug] = try author.requireID()
        }
        var topics: [String: UUID] = [:]
        for file in content.topics {
            let topic = Topic(slug: file.slug, kind: file.kind, aliases: file.aliases ?? [])
            try await topic.create(on: db)
            let id = try topic.requireID()
            topics[file.slug] = id
            for (edition, name) in file.names {
                try await TopicName(topicID: id, edition: edition, name: name, description: file.description[edition] ?? "").create(on: db)
            }
        }
        // Articles of editions this site does not run stay out, as a Persian story would on
        // a site without a Persian edition.
        let articles = content.articles.filter { settings.editionCodes.contains($0.edition) }
        var translationGroups: [String: UUID] = [:]
        for file in articles where file.translationOf != nil {
            translationGroups[file.translationOf!] = translationGroups[file.translationOf!] ?? UUID()
        }
        for file in articles {
            let article = Article(
                slug: file.slug, edition: file.edition, kind: file.kind, status: .published,
                visibility: file.visibility, title: file.title, dek: file.dek, publishedAt: file.publishedAt
            )
            article.contentUpdatedAt = file.updatedAt
            article.setBody(markdown: file.body, previewParagraphs: settings.previewParagraphs)
            let image = "lead-\(file.slug).svg"
            try write(DemoImages.lead(seed: file.translationOf ?? file.slug), named: image, settings: settings)
            article.imagePath = image
            article.imageWidth = DemoImages.leadSize.width
            article.imageHeight = DemoImages.leadSize.height
            article.imageAlt = file.image.alt
            article.imageCaption = file.image.caption
            article.imageCredit = file.image.credit
            article.translationGroup = translationGroups[file.translationOf ?? file.slug]
            try await article.create(on: db)
            try await article.saveText(on: db)
            let id = try article.requireID()
            for (position, slug) in file.authors.enumerated() {
                guard let authorID = authors[slug] else { throw StartupError("demo article \(file.slug) names unknown author \(slug)") }
                try await ArticleAuthor(articleID: id, authorID: authorID, position: position).create(on: db)
            }
            var topicIDs: [UUID] = []
            for slug in file.topics {
                guard let topicID = topics[slug] else { throw StartupError("demo article \(file.slug) names unknown topic \(slug)") }
                try await ArticleTopic(articleID: id, topicID: topicID).create(on: db)
                topicIDs.append(topicID)
            }
            // A first revision, so the admin's history and diffs start from the demo's text.
            let draft = ArticleDraft(
                title: file.title, dek: file.dek, slug: file.slug, edition: file.edition, kind: file.kind, visibility: file.visibility,
                body: file.body, authorIDs: file.authors.compactMap { authors[$0] }, topicIDs: topicIDs,
                image: .init(path: image, width: DemoImages.leadSize.width, height: DemoImages.leadSize.height),
                imageAlt: file.image.alt, imageCaption: file.image.caption, imageCredit: file.image.credit, seoTitle: "", seoDescription: ""
            )
            try await ArticleRevision(articleID: id, number: 1, staffName: importer, action: "imported", draft: draft, at: file.updatedAt ?? file.publishedAt).create(on: db)
            try await SearchIndexing(database: db).refresh(id)
            if let live = file.live {
                try await DemoLiveStories.insert(live, articleID: id, authorNames: authorNames, on: db)
            }
        }
        return articles.count
    }

    private static func write(_ svg: String, named name: String, settings: Settings) throws {
        try Data(svg.utf8).write(to: URL(fileURLWithPath: settings.mediaDirectory).appendingPathComponent(name), options: .atomic)
    }
}
