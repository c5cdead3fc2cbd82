import Fluent
import Foundation

/// Everything an import of another platform's content will create, worked out before anything
/// is written: which posts are new, their edition, kind, slug, Markdown, images and old
/// addresses, and the authors and topics they need.
struct ContentPlan: Sendable {
    struct PlannedArticle: Sendable {
        let key: String
        let article: Article
        let markdown: String
        let authorKeys: [String]
        let topicKeys: [String]
        let legacyPaths: [String]
    }

    struct PlannedPage: Sendable {
        let key: String
        let page: Page
        let legacyPaths: [String]
    }

    let source: String
    private(set) var report = ContentImport.Report()
    private let export: ImportedContent
    private let settings: Settings
    private let options: ContentImport.Options
    private let now: Date
    /// Items of this source imported before, by key (`post:12`, `author:layla`, `category:iraq`).
    private let known: [String: UUID]
    private let existingAuthors: [String: UUID]
    private let existingTopics: [String: UUID]
    private var takenSlugs: Set<String>
    private var takenPaths: Set<String>
    private(set) var authors: [(key: String, author: Author)] = []
    private(set) var topics: [(key: String, topic: Topic, term: ImportedContent.Term)] = []
    private(set) var topicEditions: [String: Set<String>] = [:]
    private(set) var articles: [PlannedArticle] = []
    private(set) var pages: [PlannedPage] = []
    private var takenPageSlugs: Set<String>
    private var planned: [String: UUID] = [:]
    private var plannedAuthorSlugs: Set<String> = []
    private var plannedPosts: Set<String> = []
    private let uploads: UploadedImages

    init(export: ImportedContent, settings: Settings, options: ContentImport.Options, database: any Database, now: Date) async throws {
        self.export = export
        self.settings = settings
        self.options = options
        self.now = now
        uploads = UploadedImages(folder: options.uploads, marker: export.uploadsMarker, missing: options.missingUploads, writingTo: options.dryRun ? nil : MediaLibrary(directory: settings.mediaDirectory))
        source = export.platform + ":" + export.siteURL
        let source = self.source
        known = Dictionary(try await ImportedItem.query(on: database).filter(\.$source == source).all().map { ($0.sourceKey, $0.targetID) }) { first, _ in first }
        existingAuthors = Dictionary(try await Author.query(on: database).all().map { ($0.slug, try $0.requireID()) }) { first, _ in first }
        existingTopics = Dictionary(try await Topic.query(on: database).all().map { ($0.slug, try $0.requireID()) }) { first, _ in first }
        takenSlugs = Set(try await Article.query(on: database).field(\.$edition).field(\.$slug).all().map { "\($0.edition)/\($0.slug)" })
        takenPaths = Set(try await LegacyPath.query(on: database).field(\.$path).all().map(\.path))
            .union(try await LegacyPagePath.query(on: database).field(\.$path).all().map(\.path))
        takenPageSlugs = Set(try await Page.query(on: database).field(\.$edition).field(\.$slug).all().map { "\($0.edition)/\($0.slug)" })
    }

    /// The id an item of the old site has here: imported before, or planned in this run.
    func target(of key: String) -> UUID? {
        known[key] ?? planned[key]
    }

    mutating func convertPosts(progress: @Sendable (ContentImport.Step) -> Void) async throws {
        planAuthors()
        planTopics()
        var skippedTypes: [String: Int] = [:]
        progress(.converting(done: 0, total: export.posts.count))
        for (index, post) in export.posts.enumerated() {
            try Task.checkCancellation()
            defer { progress(.converting(done: index + 1, total: export.posts.count)) }
            switch post.type {
            case "post":
                plan(post)
            case "page":
                planPage(post)
            default:
                skippedTypes[post.type, default: 0] += 1
            }
        }
        for (type, count) in skippedTypes.sorted(by: { $0.key < $1.key }) {
            report.notMapped.append("\(count) \(type.isEmpty ? "untyped" : type) \(count == 1 ? "item" : "items"): not content Masthead keeps (menus, revisions, reusable blocks and the like)")
        }
        report.authors = authors.count
        report.topics = topics.count
    }

    private mutating func planAuthors() {
        for author in export.authors where !author.login.isEmpty {
            let key = "author:\(author.login)"
            guard known[key] == nil else {
                report.importedBefore += 1
                continue
            }
            let slug = Self.asciiSlug(author.login, fallback: "author")
            if existingAuthors[slug] != nil {
                report.notMapped.append("author \(author.login): bylines go to the author already here as /authors/\(slug)")
                continue
            }
            guard plannedAuthorSlugs.insert(slug).inserted else {
                report.notMapped.append("author \(author.login): shares the address /authors/\(slug) with another author of the export, whose byline their posts get")
                continue
            }
            let created = Author(slug: slug, name: author.displayName.isEmpty ? author.login : HTMLNodes.decode(author.displayName), bio: Self.plainText(author.bio))
            created.id = UUID()
            planned[key] = created.id
            authors.append((key, created))
        }
    }

    private mutating func planTopics() {
        let terms = export.categories.map { ("category", $0) } + export.tags.map { ("tag", $0) }
        var plannedSlugs: Set<String> = []
        for (taxonomy, term) in terms where !term.slug.isEmpty {
            if taxonomy == "category", options.kind(ofCategory: term.slug) != nil { continue }
            let key = "\(taxonomy):\(term.slug)"
            guard known[key] == nil else {
                report.importedBefore += 1
                continue
            }
            let slug = Self.asciiSlug(term.slug, fallback: taxonomy)
            guard existingTopics[slug] == nil, plannedSlugs.insert(slug).inserted else { continue }
            let topic = Topic(slug: slug, kind: .theme, aliases: term.slug == slug ? [] : [term.slug])
            topic.id = UUID()
            planned[key] = topic.id
            topics.append((key, topic, term))
        }
    }

    /// Whether a post or page is one to plan: its id usable, and not imported before.
    private mutating func isNew(_ post: ImportedContent.Post, key: String, label: String) -> Bool {
        guard !post.id.isEmpty, post.id.count <= 40, post.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), plannedPosts.insert(post.id).inserted else {
            report.notMapped.append("\(label): its id is missing, not letters and digits, or used twice in the export")
            return false
        }
        guard known[key] == nil else {
            report.importedBefore += 1
            return false
        }
        return true
    }

    private mutating func plan(_ post: ImportedContent.Post) {
        let key = "post:\(post.id)"
        let label = "post “\(post.title.isEmpty ? "(untitled)" : post.title)” (id \(post.id))"
        guard isNew(post, key: key, label: label) else { return }
        let status: ArticleStatus
        switch post.status {
        case "publish": status = .published
        case "future": status = .scheduled
        case "draft", "pending": status = .draft
        case "private":
            status = .draft
            report.notMapped.append("\(label): private on the old site, imported as a draft")
        default:
            report.notMapped.append("\(label): \(post.status == "trash" ? "in the bin" : "status '\(post.status)'"), so it was left out")
            return
        }
        let edition = edition(of: post)
        let title = HTMLNodes.decode(post.title).trimmingCharacters(in: .whitespacesAndNewlines)
        let publishedAt = status == .draft ? nil : (post.dateGMT ?? post.localDate.flatMap { localDate($0) } ?? now)
        let kind = post.categories.compactMap { options.kind(ofCategory: $0) }.first ?? .news
        let article = Article(
            slug: uniqueSlug(for: post, title: title, edition: edition), edition: edition, kind: kind, status: status,
            visibility: post.visibility ?? options.visibility, title: title.isEmpty ? "Untitled" : title, dek: Self.plainText(post.excerpt), publishedAt: publishedAt
        )
        article.id = UUID()

        let markdown = markdown(of: post, label: label)
        article.setBody(markdown: markdown, previewParagraphs: settings.previewParagraphs)
        featuredImage(of: post, on: article, label: label)

        let topicKeys = post.categories.filter { options.kind(ofCategory: $0) == nil }.map { "category:\($0)" } + post.tags.map { "tag:\($0)" }
        for topic in topicKeys { topicEditions[topic, default: []].insert(edition) }
        let paths = legacyPaths(of: post, label: label)
        if status == .draft { report.drafts += 1 }
        report.articles += 1
        articles.append(PlannedArticle(
            key: key, article: article, markdown: markdown,
            authorKeys: post.creators.map { "author:\($0)" }, topicKeys: topicKeys, legacyPaths: paths
        ))
    }

    /// A standing page (about us, contact): published or not, in the edition its language or script says.
    private mutating func planPage(_ post: ImportedContent.Post) {
        let key = "page:\(post.id)"
        let label = "page “\(post.title.isEmpty ? "(untitled)" : post.title)” (id \(post.id))"
        guard isNew(post, key: key, label: label) else { return }
        var published: Bool
        switch post.status {
        case "publish": published = true
        case "draft", "pending", "private", "future":
            published = false
            if post.status != "draft" && post.status != "pending" {
                report.notMapped.append("\(label): \(post.status) on the old site, imported unpublished")
            }
        default:
            report.notMapped.append("\(label): \(post.status == "trash" ? "in the bin" : "status '\(post.status)'"), so it was left out")
            return
        }
        // A standing page is for every reader: one the old platform kept for members waits for an editor.
        if published, let visibility = post.visibility, visibility != .public {
            published = false
            report.notMapped.append("\(label): for \(visibility == .paid ? "paying members" : "members") only on the old site; standing pages are for every reader, so it was imported unpublished")
        }
        let edition = edition(of: post)
        let title = HTMLNodes.decode(post.title).trimmingCharacters(in: .whitespacesAndNewlines)
        let base = Slug.isValid(post.slug) ? post.slug : Self.asciiSlug(post.slug.isEmpty ? title : post.slug, fallback: "page-\(post.id.lowercased())")
        var slug = base
        var attempt = 1
        while !takenPageSlugs.insert("\(edition)/\(slug)").inserted {
            attempt += 1
            slug = String(base.prefix(100)) + "-\(attempt)"
        }
        let page = Page(edition: edition, slug: slug, title: title.isEmpty ? "Untitled" : String(title.prefix(200)), markdown: markdown(of: post, label: label), published: published, at: now)
        page.id = UUID()
        planned[key] = page.id
        report.pages += 1
        pages.append(PlannedPage(key: key, page: page, legacyPaths: legacyPaths(of: post, label: label)))
    }

    /// The body in Markdown, its images stored here when a copy of them was given.
    private mutating func markdown(of post: ImportedContent.Post, label: String) -> String {
        var converter = HTMLMarkdown()
        let uploads = self.uploads
        uploads.startPost()
        converter.relocateImage = { address in uploads.local(address).map { SiteURL.media($0.path) } }
        let markdown = converter.convert(post.content)
        report.images += uploads.postImages
        for (address, problem) in uploads.postProblems {
            report.notMapped.append("\(label): the image \(address) \(problem); it still points to the old site")
        }
        if !converter.dropped.isEmpty {
            report.notMapped.append("\(label): \(Set(converter.dropped).sorted().joined(separator: ", ")) left out of the body")
        }
        return markdown
    }

    /// The old addresses of a post or page that may redirect here: not the home page, not one
    /// this site answers itself, and not one already taken.
    private mutating func legacyPaths(of post: ImportedContent.Post, label: String) -> [String] {
        var paths: [String] = []
        for address in [post.link, post.guid] {
            guard let path = LegacyPath.normalized(url: address), path != "/", !takenPaths.contains(path) else { continue }
            guard !isOwnAddress(path) else {
                report.notMapped.append("\(label): its old address \(path) is one this site answers itself, so it does not redirect")
                continue
            }
            takenPaths.insert(path)
            paths.append(path)
        }
        report.redirects += paths.count
        return paths
    }

    private mutating func featuredImage(of post: ImportedContent.Post, on article: Article, label: String) {
        guard let id = post.thumbnailID, !id.isEmpty else { return }
        guard let attachment = export.attachments[id] else {
            report.notMapped.append("\(label): its featured image (attachment \(id)) is not in the export")
            return
        }
        guard options.uploads != nil else {
            report.notMapped.append("\(label): its featured image \(attachment.url) was not copied (give --media-dir, a copy of wp-content/uploads)")
            return
        }
        let relative = attachment.file.isEmpty ? attachment.url : export.uploadsMarker + attachment.file
        switch uploads.load(relative) {
        case .success(let image):
            article.imagePath = image.path
            article.imageWidth = image.width
            article.imageHeight = image.height
            article.imageAlt = Self.plainText(attachment.alt)
            article.imageCaption = Self.plainText(attachment.caption)
            report.images += 1
        case .failure(let problem):
            report.notMapped.append("\(label): its featured image \(attachment.url) \(problem)")
        }
    }

    /// Paths this site's own pages live under (with or without an edition in front): an old
    /// address there could stand in for an article not yet published.
    private func isOwnAddress(_ path: String) -> Bool {
        var segments = path.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
        if let first = segments.first, settings.editionCodes.contains(first) { segments.removeFirst() }
        guard let first = segments.first else { return !path.contains("?") }
        return ["articles", "topics", "authors", "pages", "media", "admin", "api", "assets"].contains(first)
    }

    private func localDate(_ components: DateComponents) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = settings.timeZone
        return calendar.date(from: components)
    }

    /// The post's edition: its language where a multilingual plugin recorded one, else the
    /// script its title is written in, else the site's first edition.
    private func edition(of post: ImportedContent.Post) -> String {
        let editions = settings.editionCodes
        if let language = post.language, editions.contains(language) { return language }
        var arabicScript = 0, persianLetters = 0, latin = 0, turkishLetters = 0
        for scalar in (post.title.isEmpty ? String(post.content.prefix(2_000)) : post.title).unicodeScalars {
            switch scalar.value {
            case 0x0600...0x06FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: arabicScript += 1
            case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F: latin += 1
            default: break
            }
            if "پچژگکی".unicodeScalars.contains(scalar) { persianLetters += 1 }
            if "ğĞşŞıİ".unicodeScalars.contains(scalar) { turkishLetters += 1 }
        }
        if arabicScript > latin {
            if persianLetters > 0, editions.contains("fa") { return "fa" }
            if editions.contains("ar") { return "ar" }
            if editions.contains("fa") { return "fa" }
        } else if turkishLetters > 0, editions.contains("tr") {
            return "tr"
        }
        return editions[0]
    }

    private mutating func uniqueSlug(for post: ImportedContent.Post, title: String, edition: String) -> String {
        let base = Slug.isValid(post.slug) ? post.slug : Self.asciiSlug(post.slug.isEmpty ? title : post.slug, fallback: "post-\(post.id.lowercased())")
        var slug = base
        var attempt = 1
        while takenSlugs.contains("\(edition)/\(slug)") {
            attempt += 1
            let id = post.id.lowercased()
            slug = String(base.prefix(100)) + (attempt == 2 ? "-\(id)" : "-\(id)-\(attempt)")
        }
        takenSlugs.insert("\(edition)/\(slug)")
        return slug
    }

    /// A slug in the letters Masthead's addresses use: other scripts transliterated.
    static func asciiSlug(_ text: String, fallback: String) -> String {
        let latin = text.applyingTransform(StringTransform("Any-Latin; Latin-ASCII; Lower"), reverse: false) ?? text.lowercased()
        var slug = ""
        for scalar in latin.unicodeScalars {
            if (scalar.value >= 97 && scalar.value <= 122) || (scalar.value >= 48 && scalar.value <= 57) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        slug = String(slug.prefix(100))
        while slug.hasSuffix("-") { slug.removeLast() }
        return Slug.isValid(slug) ? slug : fallback
    }

    static func plainText(_ html: String) -> String {
        HTMLNodes.text(of: HTMLNodes.parse(html)).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    func write(on database: any Database, progress: @Sendable (ContentImport.Step) -> Void) async throws {
        for (key, author) in authors {
            try await author.create(on: database)
            try await ImportedItem(source: source, key: key, targetID: try author.requireID(), at: now).create(on: database)
        }
        for (key, topic, term) in topics {
            try await topic.create(on: database)
            let id = try topic.requireID()
            for edition in (topicEditions[key] ?? [settings.editionCodes[0]]).sorted() {
                try await TopicName(topicID: id, edition: edition, name: HTMLNodes.decode(term.name), description: Self.plainText(term.description)).create(on: database)
            }
            try await ImportedItem(source: source, key: key, targetID: id, at: now).create(on: database)
        }
        for planned in pages {
            try await planned.page.create(on: database)
            let id = try planned.page.requireID()
            for path in planned.legacyPaths {
                try await LegacyPagePath(path: path, pageID: id).create(on: database)
            }
            try await ImportedItem(source: source, key: planned.key, targetID: id, at: now).create(on: database)
        }
        progress(.writing(done: 0, total: articles.count))
        for (index, planned) in articles.enumerated() {
            let article = planned.article
            let id = try article.requireID()
            try await article.create(on: database)
            try await article.saveText(on: database)
            var credited: [UUID] = []
            for authorKey in planned.authorKeys {
                guard let author = target(of: authorKey) ?? existingAuthors[Self.asciiSlug(String(authorKey.dropFirst("author:".count)), fallback: "author")],
                      !credited.contains(author) else { continue }
                try await ArticleAuthor(articleID: id, authorID: author, position: credited.count).create(on: database)
                credited.append(author)
            }
            var linked: Set<UUID> = []
            for topicKey in planned.topicKeys {
                let slug = Self.asciiSlug(String(topicKey.split(separator: ":", maxSplits: 1).last ?? ""), fallback: "")
                guard let topic = target(of: topicKey) ?? existingTopics[slug], linked.insert(topic).inserted else { continue }
                try await ArticleTopic(articleID: id, topicID: topic).create(on: database)
            }
            for path in planned.legacyPaths {
                try await LegacyPath(path: path, articleID: id).create(on: database)
            }
            try await ImportedItem(source: source, key: planned.key, targetID: id, at: now).create(on: database)
            progress(.writing(done: index + 1, total: articles.count))
        }
    }
}
