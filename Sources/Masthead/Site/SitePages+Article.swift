import Foundation

extension SitePages {
    func articlePage(
        _ article: Article, edition: Edition, access: Access, gatedText: GatedText?, viewerLevel: AccessLevel,
        related: [Article], translations: [Article], live: LiveCoverage? = nil
    ) throws -> String {
        let urls = SiteURL(edition: edition)
        let dates = EditionDates(edition: edition)
        let path = urls.article(article.slug)
        let published = article.publishedAt ?? Date()
        let modified = article.lastModified ?? published
        let authors = article.bylineAuthors
        let topics = article.topics
        let imageURL = article.imagePath.map { settings.publicURL + SiteURL.media($0) }
        let kindLabel = edition.text("kind_\(article.kind.rawValue)")
        let corrections = (article.$corrections.value ?? []).sorted { $0.createdAt < $1.createdAt }

        var alternates: [String: String] = [edition.code: path]
        for translation in translations {
            if let other = theme.editions[translation.edition] {
                alternates[other.code] = SiteURL(edition: other).article(translation.slug)
            }
        }
        var structuredData = ArticleStructuredData(
            headline: article.title, description: article.dek, inLanguage: edition.code,
            mainEntityOfPage: settings.publicURL + path, url: settings.publicURL + path,
            image: imageURL.map { [$0] } ?? [],
            datePublished: EditionDates.iso(published), dateModified: EditionDates.iso(modified),
            articleSection: kindLabel, keywords: topics.map { $0.name(in: edition.code) },
            author: authors.map { .init(name: $0.name, url: settings.publicURL + urls.author($0.slug)) },
            publisher: publisher(),
            isAccessibleForFree: article.visibility == .public,
            hasPart: article.visibility == .public ? nil : .init()
        )
        if let live {
            structuredData.type = "LiveBlogPosting"
            structuredData.coverageStartTime = EditionDates.iso(live.story.startedAt)
            structuredData.coverageEndTime = live.story.endedAt.map(EditionDates.iso)
            structuredData.hasPart?.cssSelector = ".article__gated, .live-updates"
            if access.isFull {
                // The latest twenty: a day's coverage can run to hundreds, the page has them all.
                structuredData.liveBlogUpdate = live.updates.prefix(20).map { update in
                    .init(
                        headline: update.headline.isEmpty ? article.title : update.headline,
                        url: settings.publicURL + path + "#" + update.anchor,
                        datePublished: EditionDates.iso(update.createdAt), dateModified: EditionDates.iso(update.updatedAt),
                        articleBody: HTMLText.plain(update.html), author: [.init(name: update.authorName)]
                    )
                }
            }
        }
        let head = PageHead(
            title: "\(article.seoTitle ?? article.title) | \(settings.siteName)",
            description: article.seoDescription ?? article.dek,
            path: path,
            bodyClass: "page-article",
            alternates: alternates.count > 1 ? alternates : [:],
            meta: SocialMeta.article(
                title: article.title, description: article.dek, url: settings.publicURL + path,
                imageURL: imageURL, imageAlt: article.imageAlt, siteName: settings.siteName,
                locale: edition.openGraphLocale, published: EditionDates.iso(published),
                modified: EditionDates.iso(modified), section: kindLabel,
                tags: topics.map { $0.name(in: edition.code) }
            ),
            feeds: FeedDiscovery.links(
                basePath: urls.homeFeeds, title: edition.text("feed_edition_title", ["site": settings.siteName]), publicURL: settings.publicURL
            ),
            jsonLD: [
                StructuredData.script(structuredData),
                StructuredData.script(StructuredData.Breadcrumbs([
                    (settings.siteName, settings.publicURL + urls.home),
                    (edition.text("kinds_\(article.kind.rawValue)"), settings.publicURL + urls.kind(article.kind)),
                    (article.title, settings.publicURL + path),
                ])),
            ]
        )

        var gated: ArticlePageModel.Gated?
        var paywall: ArticlePageModel.Paywall?
        switch access {
        case .full:
            // Only the text handed out for this very article.
            gated = gatedText.flatMap { $0.articleID == article.id && !$0.html.isEmpty ? .init(html: $0.html) : nil }
        case .preview(let reason):
            paywall = paywallModel(reason: reason, visibility: article.visibility, edition: edition, returnPath: path)
        }

        let model = ArticlePageModel(
            layout: layout(edition: edition, head: head, access: viewerLevel),
            kindLabel: kindLabel,
            kindURL: urls.kind(article.kind),
            title: article.title,
            dek: article.dek,
            authors: authors.enumerated().map { index, author in
                .init(
                    separator: index == 0 ? "" : (index == authors.count - 1 ? edition.text("list_last_separator") : edition.text("list_separator")),
                    name: author.name, url: urls.author(author.slug)
                )
            },
            publishedISO: EditionDates.iso(published),
            publishedText: dates.dayAndTime(published),
            updatedISO: article.contentUpdatedAt.map(EditionDates.iso),
            updatedText: article.contentUpdatedAt.map(dates.dayAndTime),
            badge: badge(for: article.visibility, edition: edition),
            figure: article.imagePath.map {
                .init(
                    src: SiteURL.media($0), width: article.imageWidth ?? 1200, height: article.imageHeight ?? 675,
                    alt: article.imageAlt, caption: article.imageCaption, credit: article.imageCredit
                )
            },
            previewHTML: article.previewHTML,
            gated: gated,
            paywall: paywall,
            topics: topics.map { .init(name: $0.name(in: edition.code), url: urls.topic($0.slug)) },
            translations: translations.compactMap { translation in
                theme.editions[translation.edition].map {
                    .init(name: $0.name, lang: $0.code, dir: $0.direction.rawValue, url: SiteURL(edition: $0).article(translation.slug))
                }
            },
            related: related.map { card($0, edition: edition, headingTag: "h3", compact: true) },
            hasTopics: !topics.isEmpty,
            hasRelated: !related.isEmpty,
            corrections: corrections.map { .init(dateISO: EditionDates.iso($0.createdAt), dateText: dates.dayAndTime($0.createdAt), note: $0.note) },
            hasCorrections: !corrections.isEmpty,
            live: live.map { LiveCoverageModel($0, readable: access.isFull, dates: dates, path: path, script: theme.assetPath("live.js")) },
            comments: article.id.flatMap { id in
                CommentRules.areOpen(article, settings: settings.live.current)
                    ? .init(pageURL: CommentsController.page(id), fragmentURL: CommentsController.fragment(id), script: theme.assetPath("comments.js"))
                    : nil
            }
        )
        return try theme.render("article", model)
    }

    func paywallModel(reason: PaywallReason, visibility: Visibility, edition: Edition, returnPath: String) -> ArticlePageModel.Paywall {
        let values = ["site": settings.siteName, "price": settings.membershipPrice]
        let urls = MemberURL(edition: edition)
        let join = ArticlePageModel.Link(label: edition.text("paywall_join"), url: urls.join(returningTo: returnPath))
        let signIn = ArticlePageModel.Link(label: edition.text("paywall_signin"), url: urls.signIn(returningTo: returnPath))
        switch (reason, visibility) {
        case (.signInOrJoin, .members):
            return .init(title: edition.text("paywall_members_title"), text: edition.text("paywall_members_text", values), price: nil, primary: join, secondary: signIn)
        case (.upgrade, _):
            return .init(
                title: edition.text("paywall_upgrade_title"), text: edition.text("paywall_upgrade_text", values),
                price: edition.text("paywall_price", values),
                primary: .init(label: edition.text("paywall_upgrade"), url: BillingURL(edition: edition).plans(returningTo: returnPath)), secondary: nil
            )
        default:
            return .init(title: edition.text("paywall_title"), text: edition.text("paywall_text", values), price: edition.text("paywall_price", values), primary: join, secondary: signIn)
        }
    }
}
