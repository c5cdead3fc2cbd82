import Fluent
import Foundation
import Vapor

/// The editions overview: what each edition holds and how much of it has versions elsewhere.
/// Editions themselves come from the theme's translation files and `MASTHEAD_EDITIONS`, so this
/// page shows them and says how to add one rather than editing them.
struct EditionsController: Sendable {
    let admin: AdminPages

    struct Row {
        let name: String
        let code: String
        let direction: String
        let isDefault: Bool
        let published: Int
        let unpublished: Int
        let translated: Int
        let listURL: String
        let siteURL: String
    }

    struct Page {
        let layout: AdminPages.Layout
        let rows: [Row]
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.editions) { try await list($0) }
    }

    func list(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.manageTopicsAndAuthors)
        let articles = try await Article.query(on: req.db).field(\.$id).field(\.$edition).field(\.$status).field(\.$translationGroup).all()
        let groupsByEdition = Dictionary(grouping: articles.compactMap { article in article.translationGroup.map { ($0, article.edition) } }, by: \.0)
            .mapValues { Set($0.map(\.1)) }
        return try admin.render("admin/editions", Page(
            layout: admin.layout("Editions", for: req, current: AdminURL.editions),
            rows: admin.theme.editions.all.map { edition in
                let own = articles.filter { $0.edition == edition.code }
                return Row(
                    name: edition.name, code: edition.code, direction: edition.direction == .rtl ? "right to left" : "left to right",
                    isDefault: edition.isDefault,
                    published: own.filter { $0.status == .published }.count,
                    unpublished: own.filter { $0.status != .published }.count,
                    translated: own.filter { article in article.translationGroup.map { (groupsByEdition[$0]?.count ?? 0) > 1 } ?? false }.count,
                    listURL: AdminURL.articles(edition: edition.code),
                    siteURL: SiteURL(edition: edition).home
                )
            }
        ))
    }
}
