import Fluent
import Foundation
import SQLKit

/// What the sitemaps list (sitemaps.org 0.9): every public page kind in files of at most 50,000
/// URLs, each with its last change and its versions in the other editions (`hreflang`), and the
/// Google News sitemap of the last 48 hours. Only published articles whose time has come count.
struct Sitemaps {
    static let urlsPerFile = 50_000
    /// Google News lists articles of the last two days, at most a thousand per sitemap.
    static let newsWindow: TimeInterval = 48 * 3600
    static let newsLimit = 1_000

    enum Section: String, CaseIterable, Sendable {
        case pages, articles, topics, authors
    }

    struct Entry: Sendable {
        let path: String
        let lastModified: Date?
        /// The same page in every edition, this one included, by language.
        var alternates: [(language: String, path: String)] = []
    }

    struct NewsEntry: Sendable {
        let path: String
        let language: String
        let published: Date
        let title: String
    }

    let database: any Database
    let editions: EditionCatalog
    let now: Date
    var urlsPerFile = Self.urlsPerFile

    /// The sitemap files there are, by section and number from 1; a section with nothing to list
    /// has none, except the pages, which every site has.
    func files() async throws -> [(section: Section, number: Int)] {
        var files: [(Section, Int)] = []
        for section in Section.allCases {
            let count = section == .articles ? try await published().count() : try await entries(section).count
            let fileCount = section == .pages ? max(1, fileCount(count)) : fileCount(count)
            files += (0..<fileCount).map { (section, $0 + 1) }
        }
        return files
    }

    /// One sitemap file's entries, or nil when there is no such file.
    func entries(_ section: Section, file: Int) async throws -> [Entry]? {
        guard file >= 1 else { return nil }
        // A file beyond what could exist is refused by a count, before any heavier query: an
        // address that names nothing must not cost a scan of the archive.
        let start = (file - 1) * urlsPerFile
        if file > 1 {
            let most = switch section {
            case .pages: editions.all.count * (ArticleKind.allCases.count + 1) + (try await Page.query(on: database).filter(\.$published == true).count())
            case .articles: try await published().count()
            case .topics: try await Topic.query(on: database).count() * editions.all.count
            case .authors: try await Author.query(on: database).count() * editions.all.count
            }
            guard start < most else { return nil }
        }
        if section == .articles { return try await articles(file: file) }
        let all = try await entries(section)
        guard start < all.count || (file == 1 && section == .pages) else { return nil }
        return Array(all[start..<min(all.count, start + urlsPerFile)])
    }

    /// Articles published in the last 48 hours, newest first.
    func news() async throws -> [NewsEntry] {
        try await published()
            .filter(\.$publishedAt >= now.addingTimeInterval(-Self.newsWindow))
            .sort(\.$publishedAt, .descending)
            .limit(Self.newsLimit)
            .field(\.$id).field(\.$slug).field(\.$edition).field(\.$title).field(\.$publishedAt)
            .all()
            .compactMap { article in
                guard let edition = editions[article.edition], let published = article.publishedAt else { return nil }
                return NewsEntry(path: SiteURL(edition: edition).article(article.slug), language: edition.code, published: published, title: article.title)
            }
    }

    private func fileCount(_ urls: Int) -> Int { (urls + urlsPerFile - 1) / urlsPerFile }

    private func published() -> QueryBuilder<Article> {
        Article.query(on: database).filter(\.$status == .published).filter(\.$publishedAt <= now)
    }

    private func entries(_ section: Section) async throws -> [Entry] {
        switch section {
        case .pages: try await pages()
        case .topics: try await listings(link: "article_topics", column: "topic_id", table: "topics") { SiteURL(edition: $0).topic($1) }
        case .authors: try await listings(link: "article_authors", column: "author_id", table: "authors") { SiteURL(edition: $0).author($1) }
        case .articles: []
        }
    }

    /// Articles oldest first, so that a file's content only changes at its end as the archive grows.
    private func articles(file: Int) async throws -> [Entry]? {
        let start = (file - 1) * urlsPerFile
        let articles = try await published()
            .sort(\.$publishedAt, .ascending).sort(\.$id, .ascending)
            .range(start..<(start + urlsPerFile))
            .field(\.$id).field(\.$slug).field(\.$edition).field(\.$publishedAt).field(\.$contentUpdatedAt).field(\.$translationGroup)
            .all()
        guard !articles.isEmpty else { return file == 1 ? [] : nil }
        let versions = try await translations(of: Set(articles.compactMap(\.translationGroup)))
        return articles.compactMap { article in
            guard let edition = editions[article.edition] else { return nil }
            var entry = Entry(path: SiteURL(edition: edition).article(article.slug), lastModified: article.contentUpdatedAt ?? article.publishedAt)
            if let group = article.translationGroup, let siblings = versions[group], siblings.count > 1 {
                entry.alternates = siblings
            }
            return entry
        }
    }

    /// Every published version of each translation group, by group.
    private func translations(of groups: Set<UUID>) async throws -> [UUID: [(language: String, path: String)]] {
        var versions: [UUID: [(language: String, path: String)]] = [:]
        let groups = Array(groups)
        // Bound the number of bound parameters per query, which both databases limit.
        for start in stride(from: 0, to: groups.count, by: 500) {
            let chunk = Array(groups[start..<min(groups.count, start + 500)])
            let siblings = try await published().filter(\.$translationGroup ~~ chunk)
                .field(\.$id).field(\.$slug).field(\.$edition).field(\.$translationGroup)
                .all()
            for sibling in siblings {
                guard let group = sibling.translationGroup, let edition = editions[sibling.edition] else { continue }
                versions[group, default: []].append((edition.code, SiteURL(edition: edition).article(sibling.slug)))
            }
        }
        return versions
    }

    /// Each edition's home and kind listings, changed when their newest article was.
    private func pages() async throws -> [Entry] {
        let newest = try await newestByEdition(groupedBy: SQLColumn("kind", table: Article.schema))
        var entries: [Entry] = []
        for edition in editions.all {
            let urls = SiteURL(edition: edition)
            let byKind = newest.filter { $0.edition == edition.code }
            entries.append(Entry(
                path: urls.home, lastModified: byKind.map(\.date).max(),
                alternates: editions.all.map { ($0.code, SiteURL(edition: $0).home) }
            ))
            for kind in ArticleKind.allCases {
                entries.append(Entry(
                    path: urls.kind(kind), lastModified: byKind.first { $0.key == kind.rawValue }?.date,
                    alternates: editions.all.map { ($0.code, SiteURL(edition: $0).kind(kind)) }
                ))
            }
        }
        let standing = try await Page.query(on: database).filter(\.$published == true).field(\.$edition).field(\.$slug).field(\.$updatedAt)
            .sort(\.$edition).sort(\.$slug).all().compactMap { page in
            editions[page.edition].map { Entry(path: SiteURL(edition: $0).page(page.slug), lastModified: page.updatedAt) }
        }
        return entries.map { entry in
            var entry = entry
            if editions.all.count < 2 { entry.alternates = [] }
            return entry
        } + standing
    }

    /// Topic or author pages in each edition where they have a published article, changed when
    /// that article was.
    private func listings(link: String, column: String, table: String, path: (Edition, String) -> String) async throws -> [Entry] {
        let newest = try await newestByEdition(
            groupedBy: SQLColumn("slug", table: table),
            joining: (link: link, column: column, table: table)
        )
        let languagesBySlug = Dictionary(grouping: newest, by: \.key)
        return newest.compactMap { row in
            guard let edition = editions[row.edition] else { return nil }
            var entry = Entry(path: path(edition, row.key), lastModified: row.date)
            let versions = (languagesBySlug[row.key] ?? []).compactMap { other in editions[other.edition].map { ($0.code, path($0, row.key)) } }
            if versions.count > 1 { entry.alternates = versions }
            return entry
        }
    }

    /// The newest change of a published article per edition and key (a kind, a topic's or an
    /// author's slug), in one grouped query rather than one per page.
    private func newestByEdition(
        groupedBy key: SQLColumn, joining: (link: String, column: String, table: String)? = nil
    ) async throws -> [(edition: String, key: String, date: Date)] {
        let sql = database as! any SQLDatabase
        let articles = Article.schema
        let changed = SQLFunction("MAX", args: SQLFunction("COALESCE", args: SQLColumn("content_updated_at", table: articles), SQLColumn("published_at", table: articles)))
        var query = sql.select()
            .column(SQLColumn("edition", table: articles))
            .column(key, as: "key")
            .column(changed, as: "changed")
        if let joining {
            query = query.from(joining.table)
                .join(joining.link, on: SQLColumn(joining.column, table: joining.link), .equal, SQLColumn("id", table: joining.table))
                .join(articles, on: SQLColumn("id", table: articles), .equal, SQLColumn("article_id", table: joining.link))
        } else {
            query = query.from(articles)
        }
        let rows = try await query
            .where(SQLColumn("status", table: articles), .equal, SQLBind(ArticleStatus.published.rawValue))
            .where(SQLColumn("published_at", table: articles), .lessThanOrEqual, SQLBind(now))
            .groupBy(SQLColumn("edition", table: articles)).groupBy(key)
            .orderBy(key).orderBy(SQLColumn("edition", table: articles))
            .all()
        return try rows.map { row in
            (try row.decode(column: "edition", as: String.self), try row.decode(column: "key", as: String.self), try row.decode(column: "changed", as: Date.self))
        }
    }
}
