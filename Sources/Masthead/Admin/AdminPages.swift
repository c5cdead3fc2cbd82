import Foundation
import Vapor

/// What every admin page shares: its own layout (English, with the sections the viewer's role
/// reaches), and responses that are never cached.
struct AdminPages: Sendable {
    struct Link {
        let label: String
        let url: String
        let current: Bool
    }

    struct Layout {
        /// The admin is written in English; a page shown in another edition's language says so.
        var lang = "en"
        var dir = "ltr"
        let documentTitle: String
        let siteName: String
        let siteURL: String
        let stylesheet: String
        let adminStylesheet: String
        let script: String
        let favicon: String
        let nav: [Link]
        let staffName: String?
        let role: String?
        let csrf: String?
        let timeZone: String
        let homeURL = AdminURL.home
        let securityURL = AdminURL.security
        let signOutAction = AdminURL.signOut
    }

    let theme: Theme
    let settings: Settings
    let csrf: CSRF

    private static let sections: [(label: String, path: String, power: StaffPolicy.Power)] = [
        ("Articles", AdminURL.home, .writeArticles),
        ("New article", AdminURL.newArticle, .writeArticles),
        ("Topics", AdminURL.topics, .manageTopicsAndAuthors),
        ("Authors", AdminURL.authors, .manageTopicsAndAuthors),
        ("Editions", AdminURL.editions, .manageTopicsAndAuthors),
        ("Pages", AdminURL.pages, .managePages),
        ("Staff", AdminURL.staff, .manageStaff),
        ("Members", AdminURL.members, .viewMembers),
        ("Newsletters", AdminURL.newsletters, .sendNewsletters),
        ("Comments", AdminURL.comments, .moderateComments),
        ("Revenue", AdminURL.revenue, .viewMembers),
        ("Plans", AdminURL.plans, .manageBilling),
        ("Integrations", AdminURL.integrations, .manageIntegrations),
        ("API tokens", AdminURL.tokens, .writeArticles),
        ("Search index", AdminURL.searchIndex, .rebuildSearchIndex),
        ("Backups", AdminURL.backups, .manageBackups),
        ("Audit log", AdminURL.audit, .viewAuditLog),
        ("Settings", AdminURL.settings, .manageSettings),
    ]

    func layout(_ title: String, for req: Request, current: String? = nil) -> Layout {
        let staff = req.staff
        return Layout(
            documentTitle: "\(title) | \(settings.siteName) admin",
            siteName: settings.siteName,
            siteURL: "/",
            stylesheet: theme.assetPath("site.css"),
            adminStylesheet: theme.assetPath("admin.css"),
            script: theme.assetPath("admin.js"),
            favicon: theme.assetPath("favicon.svg"),
            nav: staff.map { staff in
                Self.sections.filter { StaffPolicy.may(staff.role, $0.power) }
                    .map { Link(label: $0.label, url: $0.path, current: $0.path == current) }
            } ?? [],
            staffName: staff?.name,
            role: staff?.role.rawValue,
            csrf: req.staffSessionToken.map(csrf.token(for:)),
            timeZone: clock.zoneName
        )
    }

    func render(_ template: String, _ model: Any, status: HTTPResponseStatus = .ok) throws -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/html; charset=utf-8")
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: try theme.render(template, model)))
    }

    var clock: AdminClock { AdminClock(timeZone: settings.timeZone) }

    /// The staff member's CSRF token for forms on a page.
    func token(_ req: Request) -> String {
        req.staffSessionToken.map(csrf.token(for:)) ?? ""
    }

    /// The editing service for this request, with the site's editions and preview length.
    func articleEditor(_ req: Request) -> ArticleEditor {
        ArticleEditor(database: req.db, previewParagraphs: settings.previewParagraphs, editionCodes: theme.editions.all.map(\.code), now: Date(), timeZone: settings.timeZone)
    }

    static func options(_ values: [String], selected: String?) -> [Option] {
        values.map { Option(value: $0, label: $0.capitalized, selected: $0 == selected) }
    }
}

struct Option {
    let value: String
    let label: String
    let selected: Bool
}
