import Foundation

extension SitePages {
    struct HomeContent {
        let lead: Article?
        let sections: [(kind: ArticleKind, articles: [Article])]
        let analyses: [Article]
        /// Visible comments per article, for the cards.
        let commentCounts: [UUID: Int]
    }

    func homePage(_ content: HomeContent, edition: Edition, viewerLevel: AccessLevel) throws -> String {
        let urls = SiteURL(edition: edition)
        let title = "\(settings.siteName): \(edition.text("site_tagline"))"
        let head = PageHead(
            title: title, description: edition.text("site_description", ["site": settings.siteName]),
            path: urls.home, bodyClass: "page-home",
            alternates: Dictionary(uniqueKeysWithValues: theme.editions.all.map { ($0.code, SiteURL(edition: $0).home) }),
            meta: SocialMeta.website(
                title: title, description: edition.text("site_description", ["site": settings.siteName]),
                url: settings.publicURL + urls.home, siteName: settings.siteName, locale: edition.openGraphLocale
            ),
            feeds: FeedDiscovery.links(
                basePath: urls.homeFeeds, title: edition.text("feed_edition_title", ["site": settings.siteName]), publicURL: settings.publicURL
            ),
            jsonLD: [
                StructuredData.script(publisher(standalone: true)),
                StructuredData.script(StructuredData.WebSite(
                    name: settings.siteName, url: settings.publicURL + urls.home, inLanguage: edition.code,
                    description: edition.text("site_description", ["site": settings.siteName]),
                    potentialAction: .init(searchURL: settings.publicURL + urls.search)
                )),
            ]
        )
        let model = HomePageModel(
            layout: layout(edition: edition, head: head, access: viewerLevel),
            heading: title,
            leadLabel: edition.text("home_lead"),
            lead: content.lead.map { card($0, edition: edition, commentCounts: content.commentCounts, lead: true) },
            sections: content.sections.filter { !$0.articles.isEmpty }.map { section in
                .init(
                    id: "section-\(section.kind.rawValue)",
                    title: edition.text("home_latest_\(section.kind.rawValue)"),
                    url: urls.kind(section.kind),
                    cards: section.articles.map { card($0, edition: edition, commentCounts: content.commentCounts, headingTag: "h3") }
                )
            },
            aside: content.analyses.isEmpty ? nil : .init(
                id: "section-recent-analysis",
                title: edition.text("home_recent_analysis"),
                url: urls.kind(.analysis),
                cards: content.analyses.map { card($0, edition: edition, commentCounts: content.commentCounts, headingTag: "h3", compact: true) }
            )
        )
        return try theme.render("home", model)
    }

    struct Listing {
        let label: String
        let title: String
        let description: String
        let photo: ListingPageModel.Photo?
        let navPath: String?
        /// Where this listing's feeds live.
        let feedPath: String
        let url: (Int) -> String
    }

    func listingPage(_ listing: Listing, page: PublishedArticles.Page, commentCounts: [UUID: Int], edition: Edition, viewerLevel: AccessLevel) throws -> String {
        let pageSuffix = page.page > 1
            ? " (\(edition.text("pagination_status", ["page": EditionNumbers(edition: edition).format(page.page), "pages": EditionNumbers(edition: edition).format(page.pageCount)])))" : ""
        let head = PageHead(
            title: "\(listing.title)\(pageSuffix) | \(settings.siteName)",
            description: listing.description.isEmpty ? listing.title : listing.description,
            path: listing.url(page.page), bodyClass: "page-listing", currentNavPath: listing.navPath,
            meta: SocialMeta.website(
                title: listing.title, description: listing.description.isEmpty ? listing.title : listing.description,
                url: settings.publicURL + listing.url(page.page), siteName: settings.siteName, locale: edition.openGraphLocale
            ),
            feeds: FeedDiscovery.links(
                basePath: listing.feedPath,
                title: edition.text("feed_listing_title", ["title": listing.title, "site": settings.siteName]),
                publicURL: settings.publicURL
            ),
            jsonLD: [
                StructuredData.script(StructuredData.Breadcrumbs([
                    (settings.siteName, settings.publicURL + SiteURL(edition: edition).home),
                    (listing.title, settings.publicURL + listing.url(1)),
                ])),
            ]
        )
        let model = ListingPageModel(
            layout: layout(edition: edition, head: head, access: viewerLevel),
            label: listing.label,
            title: listing.title,
            description: listing.description,
            photo: listing.photo,
            cards: page.articles.map { card($0, edition: edition, commentCounts: commentCounts) },
            pagination: pagination(page: page.page, pageCount: page.pageCount, edition: edition, url: listing.url),
            hasCards: !page.articles.isEmpty
        )
        return try theme.render("listing", model)
    }

    func standingPage(_ page: Page, edition: Edition, viewerLevel: AccessLevel) throws -> String {
        let head = PageHead(
            title: "\(page.title) | \(settings.siteName)", description: page.title,
            path: SiteURL(edition: edition).page(page.slug), bodyClass: "page-standing"
        )
        return try theme.render("page", StandingPageModel(layout: layout(edition: edition, head: head, access: viewerLevel), title: page.title, html: page.html))
    }

    func errorPage(status: Int, messageKey: String?, edition: Edition) throws -> String {
        let key = [400, 403, 404].contains(status) ? String(status) : (status >= 500 ? "500" : "400")
        let title = edition.text("error_\(key)_title")
        let head = PageHead(
            title: "\(title) | \(settings.siteName)", description: title, path: "", bodyClass: "page-error"
        )
        let model = ErrorPageModel(
            layout: layout(edition: edition, head: head),
            code: status,
            title: title,
            message: edition.text(messageKey ?? "error_\(key)_text"),
            homeLabel: edition.text("error_home")
        )
        return try theme.render("error", model)
    }
}
