import Fluent
import Foundation
import Vapor

/// Flags a published story as breaking news: a banner across its edition's pages for a set
/// time, with alerts by email and Web Push if the editor asks; and ends a banner early (which
/// stops the alerts not yet sent). Editors and above: an alert reaches every reader who asked.
struct BreakingNewsController: Sendable {
    let admin: AdminPages

    struct Duration {
        let minutes: Int
        let label: String
        let selected: Bool
    }

    struct AlertList {
        let name: String
        let subscribers: Int
    }

    struct Current {
        let headline: String
        let until: String
        let flaggedBy: String
        let isThisStory: Bool
        /// How its Web Push alert is going, when it has one.
        let push: String?
    }

    struct BreakingPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let title: String
        let editorURL: String
        let publicURL: String
        let editionName: String
        let language: String
        let dir: String
        let current: Current?
        let endAction: String
        let action: String
        let headline: String
        let durations: [Duration]
        let emailAlert: Bool
        let pushAlert: Bool
        let browsers: Int
        let lists: [AlertList]
        let hasLists: Bool
        let newslettersURL: String
    }

    static let choices: [(minutes: Int, label: String)] = [
        (15, "15 minutes"), (30, "30 minutes"), (60, "1 hour"), (120, "2 hours"), (180, "3 hours"),
        (360, "6 hours"), (720, "12 hours"), (1_440, "24 hours"),
    ]

    func register(on routes: any RoutesBuilder) {
        let breaking = routes.grouped(AdminURL.Segment.articles, ":id", AdminURL.Segment.breaking)
        breaking.get { try await page($0) }
        breaking.post { try await flag($0) }
        breaking.post(AdminURL.Segment.end) { try await end($0) }
    }

    private static let notices = ["flagged": "The banner is up on every page of the edition.", "alerted": "The banner is up, and the alert is on its way.", "ended": "The banner is down."]

    func page(_ req: Request, form: [String: String]? = nil, errors: [String: String] = [:], status: HTTPResponseStatus = .ok) async throws -> Response {
        let (_, article) = try await load(req)
        let id = try article.requireID()
        let edition = admin.theme.editions[article.edition] ?? admin.theme.editions.defaultEdition
        let now = Date()
        let showing = try await BreakingNews.current(on: req.db, at: now).first { $0.edition == article.edition }
        let desk = BreakingDesk(database: req.db, now: now)
        var lists: [AlertList] = []
        for listID in try await desk.alertLists(for: article.edition) {
            guard let list = try await Newsletter.find(listID, on: req.db) else { continue }
            let subscribers = try await NewsletterSubscription.query(on: req.db).filter(\.$newsletter.$id == listID).filter(\.$status == .active).count()
            lists.append(AlertList(name: list.name, subscribers: subscribers))
        }
        let minutes = form?["minutes"].flatMap(Int.init) ?? 60
        var push: String?
        if let banner = showing {
            push = try await Self.pushProgress(of: try banner.requireID(), on: req.db)
        }
        return try admin.render("admin/breaking", BreakingPage(
            layout: admin.layout("Breaking news: \(article.title)", for: req),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { Self.notices[$0] },
            errors: errors,
            title: article.title,
            editorURL: AdminURL.article(id),
            publicURL: SiteURL(edition: edition).article(article.slug),
            editionName: edition.name, language: edition.code, dir: edition.direction.rawValue,
            current: showing.map { banner in
                Current(headline: banner.headline, until: admin.clock.dayAndTime(banner.endsAt), flaggedBy: banner.createdBy, isThisStory: banner.articleID == id, push: push)
            },
            endAction: AdminURL.endBreakingNews(id),
            action: AdminURL.breakingNews(id),
            headline: form?["headline"] ?? article.title,
            durations: Self.choices.map { Duration(minutes: $0.minutes, label: $0.label, selected: $0.minutes == minutes) },
            emailAlert: form.map { $0["email_alert"] != nil } ?? false,
            pushAlert: form.map { $0["push_alert"] != nil } ?? false,
            browsers: try await PushSubscriptions(database: req.db, services: admin.settings.pushServices, now: now).count(edition: article.edition),
            lists: lists, hasLists: !lists.isEmpty,
            newslettersURL: AdminURL.newsletters
        ), status: status)
    }

    func flag(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        let form = try req.content.decode([String: String].self)
        let flag = BreakingDesk.Flag(
            headline: form["headline"] ?? "",
            minutes: form["minutes"].flatMap(Int.init) ?? 0,
            emailAlert: form["email_alert"] != nil,
            pushAlert: form["push_alert"] != nil
        )
        do {
            _ = try await BreakingDesk(database: req.db, now: Date()).flag(article, flag, by: staff)
        } catch EditorialError.invalid(let problems) {
            return try await page(req, form: form, errors: problems, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.breakingNews(try article.requireID()), flag.emailAlert || flag.pushAlert ? "alerted" : "flagged"), redirectType: .normal)
    }

    func end(_ req: Request) async throws -> Response {
        let (staff, article) = try await load(req)
        try await BreakingDesk(database: req.db, now: Date()).end(article, by: staff)
        return req.redirect(to: AdminURL.withNotice(AdminURL.breakingNews(try article.requireID()), "ended"), redirectType: .normal)
    }

    /// "120 of 130 browsers reached, 4 unsubscribed, 6 to go", as the Web Push alert goes out.
    private static func pushProgress(of bannerID: UUID, on database: any Database) async throws -> String? {
        var counts: [PushDelivery.Status: Int] = [:]
        for status in [PushDelivery.Status.queued, .sent, .gone, .failed] {
            counts[status] = try await PushDelivery.query(on: database).filter(\.$bannerID == bannerID).filter(\.$status == status).count()
        }
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return nil }
        var parts = ["\(counts[.sent] ?? 0) of \(total) browsers reached"]
        if let gone = counts[.gone], gone > 0 { parts.append("\(gone) unsubscribed") }
        if let failed = counts[.failed], failed > 0 { parts.append("\(failed) failed") }
        if let queued = counts[.queued], queued > 0 { parts.append("\(queued) to go") }
        return parts.joined(separator: ", ")
    }

    private func load(_ req: Request) async throws -> (Staff, Article) {
        let staff = try req.requireStaff(.writeArticles)
        let article = try await req.record(Article.self)
        guard StaffPolicy.may(staff.role, .flagBreakingNews) else { throw EditorialError.forbidden }
        return (staff, article)
    }
}
