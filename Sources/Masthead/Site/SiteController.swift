import Fluent
import Foundation
import Vapor

/// The reader's pages. Each handler parses the request, asks the page cache, and on a miss
/// fetches published content and renders it.
struct SiteController: Sendable {
    let pages: SitePages
    let cache: PageCache
    let settings: Settings
    let readerIDs: ReaderIDs

    func register(on routes: any RoutesBuilder, editions: EditionCatalog) {
        for edition in editions.all {
            let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
            group.get { home($0, edition: edition) }
            group.get(.constant(SiteURL.articles), ":slug") { try article($0, edition: edition) }
            group.get(.constant(SiteURL.topics), ":slug") { try topic($0, edition: edition) }
            group.get(.constant(SiteURL.authors), ":slug") { try author($0, edition: edition) }
            group.get(.constant(SiteURL.pages), ":slug") { try standingPage($0, edition: edition) }
            for kind in ArticleKind.allCases {
                group.get(.constant(kind.pathSegment)) { try kindListing($0, kind: kind, edition: edition) }
            }
        }
    }

    func home(_ req: Request, edition: Edition) -> EventLoopFuture<Response> {
        cached(req, page: "home/\(edition.code)") { viewer in
            let published = PublishedArticles(database: req.pageDB)
            let lead = try await published.latest(edition: edition.code, limit: 1).first
            let exclude = lead.flatMap(\.id).map { [$0] } ?? []
            var sections: [(ArticleKind, [Article])] = []
            for kind in [ArticleKind.news, .report, .memo] {
                sections.append((kind, try await published.latest(edition: edition.code, kind: kind, limit: kind == .news ? 6 : 3, excluding: exclude)))
            }
            let analyses = try await published.latest(edition: edition.code, kind: .analysis, limit: 5, excluding: exclude)
            let counts = try await commentCounts([lead].compactMap { $0 } + sections.flatMap(\.1) + analyses, viewer: viewer, on: req.pageDB)
            let html = try pages.homePage(
                .init(lead: lead, sections: sections, analyses: analyses, commentCounts: counts), edition: edition, viewerLevel: viewer.accessLevel
            )
            return (html, nil)
        }
    }

    func article(_ req: Request, edition: Edition) throws -> EventLoopFuture<Response> {
        let slug = try Self.slug(req)
        guard settings.meterAllowance(for: req.viewer) > 0 else {
            return articlePage(req, edition: edition, slug: slug, meter: (false, nil))
        }
        return req.eventLoop.makeFutureWithTask {
            try await meterDecision(req, edition: edition, slug: slug)
        }.flatMap { meter in
            articlePage(req, edition: edition, slug: slug, meter: meter)
        }
    }

    private func articlePage(_ req: Request, edition: Edition, slug: String, meter: (opens: Bool, newReaderID: String?)) -> EventLoopFuture<Response> {
        cached(req, page: "article/\(edition.code)/\(slug)", metered: meter.opens) { viewer in
            let published = PublishedArticles(database: req.pageDB)
            guard let article = try await published.article(edition: edition.code, slug: slug) else {
                if let moved = try await published.movedSlug(edition: edition.code, slug: slug) {
                    throw SiteError.movedPermanently(to: SiteURL(edition: edition).article(moved))
                }
                throw SiteError.notFound
            }
            let access = AccessPolicy.decide(article: article, viewer: viewer, meter: Meter(remaining: meter.opens ? 1 : 0))
            let gatedText = try await article.gatedText(for: access, on: req.pageDB)
            let related = try await published.related(to: article, limit: 4)
            let translations = try await published.translations(of: article)
            let live = try await Self.liveCoverage(of: article, access: access, on: req.pageDB)
            let html = try pages.articlePage(
                article, edition: edition, access: access, gatedText: gatedText, viewerLevel: viewer.accessLevel,
                related: related, translations: translations, live: live
            )
            // A live story changes without its article changing: no Last-Modified, so that a
            // client revalidates by the page's own tag rather than keep a stale page.
            return (html, live == nil ? article.lastModified : nil)
        }
        .map { response in
            if let readerID = meter.newReaderID {
                response.cookies[Metering.readerCookie] = settings.cookie(readerID, for: req, maxAge: Int(Metering.window))
                // The id is this reader's alone: no shared cache may hand it to another.
                response.headers.replaceOrAdd(name: .cacheControl, value: "private, no-cache")
            }
            return response
        }
    }

    /// The article's live coverage, if it has any; its updates only with the article's grant.
    static func liveCoverage(of article: Article, access: Access, on database: any Database) async throws -> LiveCoverage? {
        guard let id = article.id, let story = try await LiveStory.find(id, on: database) else { return nil }
        guard case .full(let grant) = access else { return LiveCoverage(story: story, updates: [], standingOut: [], hasOlder: false) }
        let page = try await LiveUpdates.page(grant, story: story, limit: LiveCoverage.pageSize, on: database)
        return LiveCoverage(
            story: story, updates: page.updates,
            standingOut: try await LiveUpdates.standingOut(grant, story: story, on: database), hasOlder: page.hasOlder
        )
    }

    /// Decided before the cache is asked, as the decision picks the cached variant: whether the
    /// reader's metered allowance opens this gated article, and a reader id to set if they had
    /// none. A reader without a genuine id gets the preview with a new one (see `ReaderIDs`).
    private func meterDecision(_ req: Request, edition: Edition, slug: String) async throws -> (opens: Bool, newReaderID: String?) {
        let viewer = req.viewer
        let allowance = settings.meterAllowance(for: viewer)
        guard allowance > 0,
              let gate = try await PublishedArticles(database: req.db).gate(edition: edition.code, slug: slug),
              AccessPolicy.paywallReason(visibility: gate.visibility, viewer: viewer) != nil
        else { return (false, nil) }
        let readerKey: String
        if let member = req.signedIn?.member, let id = member.id {
            readerKey = Metering.readerKey(member: id)
        } else if let reader = readerIDs.verify(req.cookies[Metering.readerCookie]?.string) {
            readerKey = "reader:\(reader)"
        } else {
            return (false, readerIDs.issue())
        }
        let opens = try await Metering(database: req.db, now: Date()).allows(readerKey: readerKey, articleID: gate.id, allowance: allowance)
        return (opens, nil)
    }

    func kindListing(_ req: Request, kind: ArticleKind, edition: Edition) throws -> EventLoopFuture<Response> {
        let page = try Self.pageNumber(req)
        return cached(req, page: "kind/\(edition.code)/\(kind.rawValue)/\(page)") { viewer in
            let urls = SiteURL(edition: edition)
            let result = try await PublishedArticles(database: req.pageDB)
                .listing(edition: edition.code, kind: kind, page: page, per: settings.pageSize)
            let listing = SitePages.Listing(
                label: edition.text("listing_kind_label"), title: edition.text("kinds_\(kind.rawValue)"),
                description: edition.text("kinds_\(kind.rawValue)_description", ["site": settings.siteName]), photo: nil,
                navPath: urls.kind(kind), feedPath: urls.kindFeeds(kind), url: { urls.kind(kind, page: $0) }
            )
            return (try await listingPage(listing, result, edition: edition, viewer: viewer, on: req.pageDB), nil)
        }
    }

    func topic(_ req: Request, edition: Edition) throws -> EventLoopFuture<Response> {
        let slug = try Self.slug(req)
        let page = try Self.pageNumber(req)
        return cached(req, page: "topic/\(edition.code)/\(slug)/\(page)") { viewer in
            let published = PublishedArticles(database: req.pageDB)
            guard let topic = try await published.topic(slug: slug), let topicID = topic.id else { throw SiteError.notFound }
            let urls = SiteURL(edition: edition)
            let result = try await published.listing(edition: edition.code, topicID: topicID, page: page, per: settings.pageSize)
            let listing = SitePages.Listing(
                label: edition.text("topic_kind_\(topic.kind.rawValue)"), title: topic.name(in: edition.code),
                description: topic.description(in: edition.code), photo: nil,
                navPath: nil, feedPath: urls.topicFeeds(slug), url: { urls.topic(slug, page: $0) }
            )
            return (try await listingPage(listing, result, edition: edition, viewer: viewer, on: req.pageDB), nil)
        }
    }

    func author(_ req: Request, edition: Edition) throws -> EventLoopFuture<Response> {
        let slug = try Self.slug(req)
        let page = try Self.pageNumber(req)
        return cached(req, page: "author/\(edition.code)/\(slug)/\(page)") { viewer in
            let published = PublishedArticles(database: req.pageDB)
            guard let author = try await published.author(slug: slug), let authorID = author.id else { throw SiteError.notFound }
            let urls = SiteURL(edition: edition)
            let result = try await published.listing(edition: edition.code, authorID: authorID, page: page, per: settings.pageSize)
            let listing = SitePages.Listing(
                label: edition.text("listing_author_label"), title: author.name, description: author.bio(in: edition.code),
                photo: author.photoPath.map { .init(src: SiteURL.media($0), alt: author.name) },
                navPath: nil, feedPath: urls.authorFeeds(slug), url: { urls.author(slug, page: $0) }
            )
            return (try await listingPage(listing, result, edition: edition, viewer: viewer, on: req.pageDB), nil)
        }
    }

    /// Home and listings carry no Last-Modified: their comment counts change while their newest
    /// article does not, and a client revalidating by date alone would keep stale counts.
    private func listingPage(_ listing: SitePages.Listing, _ result: PublishedArticles.Page, edition: Edition, viewer: Viewer, on database: any Database) async throws -> String {
        let counts = try await commentCounts(result.articles, viewer: viewer, on: database)
        return try pages.listingPage(listing, page: result, commentCounts: counts, edition: edition, viewerLevel: viewer.accessLevel)
    }

    /// Counts only where the reader could read the discussion the count links to: comments
    /// open, and a story the reader may read outright (the discussion page shows no more).
    private func commentCounts(_ articles: [Article], viewer: Viewer, on database: any Database) async throws -> [UUID: Int] {
        let settings = settings.live.current
        let discussed = articles.filter { AccessPolicy.mayReadComments(on: $0, viewer: viewer) && CommentRules.areOpen($0, settings: settings) }
        return try await CommentCounts.visible(on: discussed.compactMap(\.id), in: database)
    }

    func standingPage(_ req: Request, edition: Edition) throws -> EventLoopFuture<Response> {
        let slug = try Self.slug(req)
        return cached(req, page: "page/\(edition.code)/\(slug)") { viewer in
            guard let page = try await Page.query(on: req.pageDB).filter(\.$edition == edition.code).filter(\.$slug == slug).filter(\.$published == true).first() else {
                throw SiteError.notFound
            }
            return (try pages.standingPage(page, edition: edition, viewerLevel: viewer.accessLevel), page.updatedAt)
        }
    }

    private func cached(
        _ req: Request, page: String, metered: Bool = false,
        render: @escaping @Sendable (Viewer) async throws -> (html: String, lastModified: Date?)
    ) -> EventLoopFuture<Response> {
        CachedResponder(cache: cache, settings: settings).respond(req, page: page, metered: metered, render: render)
    }

    /// Slugs are lowercase ASCII words joined by hyphens; anything else cannot name an article.
    static func slug(_ req: Request) throws -> String {
        guard let slug = req.parameters.get("slug"), Slug.isValid(slug) else { throw SiteError.notFound }
        return slug
    }

    static func pageNumber(_ req: Request) throws -> Int {
        // Most requests have no query at all: skip the form decoder for them.
        guard req.url.query != nil, let text = req.query[String.self, at: "page"] else { return 1 }
        guard let page = Int(text), page >= 1, page <= 100_000 else {
            throw SiteError.badRequest(messageKey: "error_bad_page")
        }
        return page
    }
}

enum Slug {
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 120
            && text.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }
}
