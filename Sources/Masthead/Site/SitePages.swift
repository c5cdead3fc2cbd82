import Foundation

/// Turns published content into page view models and HTML through the theme.
/// It never touches the database: handlers fetch, this shapes, the theme renders.
struct SitePages: Sendable {
    let theme: Theme
    let settings: Settings
    /// The banners this instance shows; renders outside the site (emails, previews) have none.
    var breaking = BreakingNewsBoard()
    /// The site's Web Push key, for the footer's "alerts in this browser" control.
    var pushKey: String?

    func layout(edition: Edition, head: PageHead, access: AccessLevel = .anonymous) -> LayoutModel {
        let urls = SiteURL(edition: edition)
        let navPaths = ArticleKind.allCases.map { urls.kind($0) }
        return LayoutModel(
            lang: edition.code,
            dir: edition.direction.rawValue,
            documentTitle: head.title,
            description: head.description,
            canonicalURL: head.path.isEmpty ? nil : settings.publicURL + head.path,
            noindex: head.path.isEmpty,
            siteName: settings.siteName,
            logo: settings.logoPath.map(SiteURL.media),
            homeURL: urls.home,
            stylesheet: theme.assetPath("site.css"),
            favicon: theme.assetPath("favicon.svg"),
            bodyClass: head.bodyClass,
            nav: zip(ArticleKind.allCases, navPaths).map { kind, path in
                .init(label: edition.text("kinds_\(kind.rawValue)"), url: path, current: head.currentNavPath == path)
            } + settings.extraNavigation.map { .init(label: $0.label, url: $0.url, current: head.currentNavPath == $0.url) },
            account: access == .anonymous
                ? .init(label: edition.text("header_signin"), url: MemberURL(edition: edition).signIn, current: false)
                : .init(label: edition.text("header_account"), url: MemberURL(edition: edition).account, current: false),
            editions: theme.editions.all.map { other in
                .init(
                    name: other.name, code: other.code,
                    url: head.alternates[other.code] ?? SiteURL(edition: other).home,
                    current: other == edition
                )
            },
            alternates: head.alternates.sorted { $0.key < $1.key }.map {
                .init(hreflang: $0.key, url: settings.publicURL + $0.value)
            },
            feeds: head.feeds,
            meta: head.meta,
            jsonLD: head.jsonLD.map(LayoutModel.StructuredData.init),
            t: edition.strings,
            copyright: edition.text("footer_copyright", [
                "year": EditionNumbers(edition: edition).year(Calendar(identifier: .gregorian).component(.year, from: Date())),
                "site": settings.siteName,
            ]),
            newslettersURL: NewsletterLinks.page(edition: edition),
            searchURL: urls.search,
            openSearchURL: urls.openSearch,
            openSearchTitle: edition.text("opensearch_description", ["site": settings.siteName, "edition": edition.name]),
            searchText: head.searchText,
            breaking: breaking.banner(for: edition.code).map { .init(headline: $0.headline, url: urls.article($0.articleSlug)) },
            push: pushKey.map {
                .init(key: $0, script: theme.assetPath("push.js"), subscribeURL: PushController.subscriptions,
                      unsubscribeURL: PushController.unsubscribe, workerURL: PushController.worker)
            }
        )
    }

    /// The outlet, as structured data names it: publisher of every article.
    func publisher(standalone: Bool = false) -> StructuredData.Organization {
        .init(name: settings.siteName, url: settings.publicURL + "/", logoURL: logoURL, standalone: standalone)
    }

    /// The uploaded logo, else the theme's icon: search engines want some image for the publisher.
    var logoURL: String {
        settings.publicURL + (settings.logoPath.map(SiteURL.media) ?? theme.assetPath("favicon.svg"))
    }

    func card(_ article: Article, edition: Edition, commentCounts: [UUID: Int] = [:], headingTag: String = "h2", lead: Bool = false, compact: Bool = false) -> CardModel {
        let comments = article.id.flatMap { commentCounts[$0] } ?? 0
        let dates = EditionDates(edition: edition)
        let image: CardModel.Image? = compact ? nil : article.imagePath.map {
            .init(src: SiteURL.media($0), width: article.imageWidth ?? 1200, height: article.imageHeight ?? 675)
        }
        return CardModel(
            url: SiteURL(edition: edition).article(article.slug),
            title: article.title,
            dek: article.dek,
            kindLabel: edition.text("kind_\(article.kind.rawValue)"),
            byline: article.bylineAuthors.map(\.name).joined(separator: edition.text("list_separator")),
            datetime: article.publishedAt.map(EditionDates.iso) ?? "",
            dateText: article.publishedAt.map(dates.day) ?? "",
            badge: badge(for: article.visibility, edition: edition),
            hasComments: comments > 0,
            commentsLabel: comments == 1 ? edition.text("card_comments_one")
                : edition.text("card_comments", ["count": EditionNumbers(edition: edition).format(comments)]),
            image: image,
            headingTag: headingTag,
            lead: lead,
            compact: compact
        )
    }

    func badge(for visibility: Visibility, edition: Edition) -> CardModel.Badge? {
        switch visibility {
        case .public: nil
        case .members: .init(label: edition.text("badge_members"), modifier: "members")
        case .paid: .init(label: edition.text("badge_paid"), modifier: "paid")
        }
    }

    func pagination(page: Int, pageCount: Int, edition: Edition, url: (Int) -> String) -> ListingPageModel.Pagination? {
        guard pageCount > 1 else { return nil }
        return .init(
            newerURL: page > 1 ? url(page - 1) : nil,
            olderURL: page < pageCount ? url(page + 1) : nil,
            status: edition.text("pagination_status", ["page": EditionNumbers(edition: edition).format(page), "pages": EditionNumbers(edition: edition).format(pageCount)])
        )
    }
}

/// Dates as an edition's readers write them, in its digits and with its other calendars beside
/// the Gregorian date, always in UTC so every instance renders the same page.
struct EditionDates {
    let edition: Edition

    func day(_ date: Date) -> String {
        withOtherCalendars(date.formatted(style(time: .omitted)), date)
    }

    func dayAndTime(_ date: Date) -> String {
        withOtherCalendars(edition.text("date_time_gmt", ["datetime": date.formatted(style(time: .shortened))]), date)
    }

    private func style(time: Date.FormatStyle.TimeStyle, calendar: Calendar = Calendar(identifier: .gregorian)) -> Date.FormatStyle {
        Date.FormatStyle(date: .long, time: time, locale: edition.formattingLocale, calendar: calendar, timeZone: .gmt)
    }

    private func withOtherCalendars(_ gregorian: String, _ date: Date) -> String {
        ([gregorian] + edition.calendars.map { date.formatted(style(time: .omitted, calendar: Calendar(identifier: $0))) })
            .joined(separator: " · ")
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// Numbers in an edition's own digits, grouped as its readers group them.
struct EditionNumbers {
    let edition: Edition

    func format(_ number: Int) -> String {
        number.formatted(.number.locale(edition.formattingLocale))
    }

    /// A year: the edition's digits, never grouped.
    func year(_ year: Int) -> String {
        year.formatted(.number.grouping(.never).locale(edition.formattingLocale))
    }
}
