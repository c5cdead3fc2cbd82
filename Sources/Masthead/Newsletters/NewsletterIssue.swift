import Fluent
import Foundation

/// A send's articles as one kind of reader may read them: the same access decision as the
/// site's, for a recipient (or a web-view reader) of that access level. One article goes out
/// whole to those entitled to it and as its preview with the call to join to the others; a
/// digest goes out as cards, each linking to its article, with no gated text at all.
struct NewsletterIssue: Sendable {
    struct Item: Sendable {
        let title: String
        let dek: String
        let url: String
        let imageURL: String?
        let imageAlt: String
        let caption: String
        let byline: String
        let date: String
        let badge: String?
        /// The article's body for this reader (a single-article send only), site HTML.
        let bodyHTML: String?
        /// The call to join, in place of the text this reader may not read.
        let paywall: ArticlePageModel.Paywall?
    }

    let subject: String
    let intro: String
    let edition: Edition
    let items: [Item]
    /// Cards linking to the articles, with no text of theirs: several articles, or an alert.
    let isDigest: Bool

    /// The send's published articles, in the order chosen, for a reader of this access level.
    static func compose(_ send: NewsletterSend, edition: Edition, access level: AccessLevel, pages: SitePages, on database: any Database) async throws -> NewsletterIssue {
        let ids = send.articleIDs
        let loaded = try await Article.query(on: database).filter(\.$id ~~ ids).filter(\.$status == .published)
            .with(\.$authorCredits) { $0.with(\.$author) }.all()
        let articles = ids.compactMap { id in loaded.first { $0.id == id } }
        let publicURL = pages.settings.publicURL
        let isDigest = articles.count > 1 || send.alert
        var items: [Item] = []
        for article in articles {
            let articleEdition = pages.theme.editions[article.edition] ?? edition
            let path = SiteURL(edition: articleEdition).article(article.slug)
            var body: String?
            var paywall: ArticlePageModel.Paywall?
            if !isDigest {
                let access = AccessPolicy.decide(article: article, viewer: level.viewer, meter: .none)
                let gated = try await article.gatedText(for: access, on: database)
                body = article.previewHTML + (gated?.html ?? "")
                if case .preview(let reason) = access {
                    let model = pages.paywallModel(reason: reason, visibility: article.visibility, edition: articleEdition, returnPath: path)
                    paywall = .init(title: model.title, text: model.text, price: model.price,
                                    primary: .init(label: model.primary.label, url: publicURL + model.primary.url),
                                    secondary: model.secondary.map { .init(label: $0.label, url: publicURL + $0.url) })
                }
            }
            items.append(Item(
                title: article.title, dek: article.dek, url: publicURL + path,
                imageURL: article.imagePath.map { publicURL + SiteURL.media($0) }, imageAlt: article.imageAlt,
                caption: [article.imageCaption, article.imageCredit].filter { !$0.isEmpty }.joined(separator: " "),
                byline: article.bylineAuthors.map(\.name).joined(separator: articleEdition.text("list_separator")),
                date: article.publishedAt.map(EditionDates(edition: articleEdition).day) ?? "",
                badge: pages.badge(for: article.visibility, edition: articleEdition)?.label,
                bodyHTML: body, paywall: paywall
            ))
        }
        return NewsletterIssue(subject: send.subject, intro: send.intro, edition: edition, items: items, isDigest: isDigest)
    }
}

extension AccessLevel {
    /// The viewer an access level stands for, when the decision is made for a kind of reader
    /// rather than a person (a newsletter's recipients, grouped).
    var viewer: Viewer {
        switch self {
        case .anonymous: .anonymous
        case .member: .freeMember
        case .paid: .paidMember
        }
    }
}
