import Fluent
import Foundation
import Vapor

/// Newsletters in the admin: the lists (admins set them up), and sends (editors write them):
/// choose articles and lists, send a test copy to one address, then send now or at a time, and
/// follow the send's progress live. Each list's subscribers over the last twelve weeks are drawn
/// as a small chart.
struct NewslettersController: Sendable {
    let admin: AdminPages
    let testTransport: any MailTransport

    struct ListRow {
        let name: String
        let slug: String
        let edition: String
        let subscribers: Int
        let pending: Int
        let state: String
        let editURL: String?
        let chart: String
    }

    struct SendRow {
        let subject: String
        let status: String
        let when: String
        let progress: String
        let url: String
    }

    struct IndexPage {
        let layout: AdminPages.Layout
        let notice: String?
        let lists: [ListRow]
        let sends: [SendRow]
        let hasSends: Bool
        let mayManage: Bool
        let newListURL = AdminURL.newNewsletter
        let newSendURL = AdminURL.newNewsletterSend
    }

    struct ListPage {
        let layout: AdminPages.Layout
        let csrf: String
        let heading: String
        let action: String
        let error: String?
        let name: String
        let description: String
        let senderName: String
        let senderEmail: String
        let replyTo: String
        let editions: [Choice]
        let forNewMembers: Bool
        let breakingAlerts: Bool
        let active: Bool
        let listURL = AdminURL.newsletters
    }

    struct Choice {
        let value: String
        let label: String
        let selected: Bool
    }

    struct ComposePage {
        let layout: AdminPages.Layout
        let csrf: String
        let error: String?
        let notice: String?
        let action = AdminURL.newNewsletterSend
        let subject: String
        let intro: String
        let articles: [Choice]
        let lists: [Choice]
        let scheduledAt: String
        let rate: String
        let testTo: String
        let listURL = AdminURL.newsletters
    }

    struct ProgressPage {
        let layout: AdminPages.Layout
        let csrf: String
        let subject: String
        let status: String
        let running: Bool
        let scheduledAt: String
        let total: Int
        let percent: Int
        let counts: [Count]
        let viewURL: String
        let cancelAction: String?
        let listURL = AdminURL.newsletters
    }

    struct Count {
        let label: String
        let value: Int
    }

    struct ListForm: Content {
        var name: String?
        var description: String?
        var senderName: String?
        var senderEmail: String?
        var replyTo: String?
        var edition: String?
        var forNewMembers: String?
        var breakingAlerts: String?
        var active: String?
    }

    struct SendForm: Content {
        var subject: String?
        var intro: String?
        var article: [String]?
        var newsletter: [String]?
        var scheduledAt: String?
        var rate: String?
        var testTo: String?
        var intent: String?
    }

    func register(on routes: any RoutesBuilder) {
        let newsletters = routes.grouped(AdminURL.Segment.newsletters)
        newsletters.get { try await index($0) }
        newsletters.get(AdminURL.Segment.new) { try editList($0, list: nil) }
        newsletters.post(AdminURL.Segment.new) { try await saveList($0, list: Newsletter()) }
        newsletters.get(":id") { req in try editList(req, list: try await list(req)) }
        newsletters.post(":id") { req in try await saveList(req, list: try await list(req)) }
        newsletters.get(AdminURL.Segment.sends, AdminURL.Segment.new) { try await compose($0) }
        newsletters.post(AdminURL.Segment.sends, AdminURL.Segment.new) { try await submit($0) }
        newsletters.get(AdminURL.Segment.sends, ":id") { try await progress($0) }
        newsletters.post(AdminURL.Segment.sends, ":id", AdminURL.Segment.cancel) { try await cancel($0) }
    }

    // MARK: The index

    func index(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.sendNewsletters)
        let now = Date()
        var rows: [ListRow] = []
        for list in try await Newsletter.query(on: req.db).sort(\.$position).all() {
            let id = try list.requireID()
            let active = try await NewsletterSubscription.query(on: req.db).filter(\.$newsletter.$id == id).filter(\.$status == .active).count()
            let pending = try await NewsletterSubscription.query(on: req.db).filter(\.$newsletter.$id == id).filter(\.$status == .pending).count()
            rows.append(ListRow(
                name: list.name, slug: list.slug, edition: list.edition, subscribers: active, pending: pending,
                state: (list.active ? (list.forNewMembers ? "offered; new members get it" : "offered") : "inactive") + (list.breakingAlerts ? "; breaking-news alerts" : ""),
                editURL: StaffPolicy.may(staff.role, .manageNewsletters) ? AdminURL.newsletter(id) : nil,
                chart: try await subscriberChart(list, now: now, on: req.db)
            ))
        }
        var sends: [SendRow] = []
        for send in try await NewsletterSend.query(on: req.db).sort(\.$createdAt, .descending).range(..<20).all() {
            let progress = try await NewsletterSends(database: req.db, now: now).progress(of: send)
            sends.append(SendRow(
                subject: send.subject, status: send.status.rawValue,
                when: admin.clock.dayAndTime(send.queuedAt ?? send.scheduledAt),
                progress: "\(progress.sent + progress.unconfirmed) of \(max(progress.total, send.recipients)) sent",
                url: AdminURL.newsletterSend(try send.requireID())
            ))
        }
        let notices = ["saved": "The newsletter is saved.", "cancelled": "The send is cancelled."]
        return try admin.render("admin/newsletters", IndexPage(
            layout: admin.layout("Newsletters", for: req, current: AdminURL.newsletters),
            notice: req.query[String.self, at: "done"].flatMap { notices[$0] },
            lists: rows, sends: sends, hasSends: !sends.isEmpty, mayManage: StaffPolicy.may(staff.role, .manageNewsletters)
        ))
    }

    /// Subscribers at the end of each of the last twelve weeks.
    private func subscriberChart(_ list: Newsletter, now: Date, on database: any Database) async throws -> String {
        let id = try list.requireID()
        var values: [RevenueChart.Value] = []
        for weeksAgo in stride(from: 11, through: 0, by: -1) {
            let end = now.addingTimeInterval(-Double(weeksAgo) * 7 * 86_400)
            let joined = try await NewsletterSubscription.query(on: database).filter(\.$newsletter.$id == id)
                .filter(\.$confirmedAt <= end).group(.or) { $0.filter(\.$unsubscribedAt == nil).filter(\.$unsubscribedAt > end) }.count()
            values.append(.init(label: admin.clock.day(end), amount: Double(joined)))
        }
        return RevenueChart(id: "subscribers-\(list.slug)", title: "\(list.name): subscribers, last 12 weeks", values: values, style: .line) { String(Int($0)) }.svg
    }

    // MARK: Lists

    func editList(_ req: Request, list: Newsletter?, form: ListForm? = nil, error: String? = nil) throws -> Response {
        _ = try req.requireStaff(.manageNewsletters)
        let settings = admin.settings
        let edition = form?.edition ?? list?.edition ?? admin.theme.editions.defaultEdition.code
        let heading = list?.id == nil ? "New newsletter" : "Newsletter: \(list?.name ?? "")"
        return try admin.render("admin/newsletter", ListPage(
            layout: admin.layout(heading, for: req, current: AdminURL.newsletters),
            csrf: admin.token(req), heading: heading,
            action: list?.id.map(AdminURL.newsletter) ?? AdminURL.newNewsletter,
            error: error,
            name: form?.name ?? list?.name ?? "",
            description: form?.description ?? list?.description ?? "",
            senderName: form?.senderName ?? list?.senderName ?? settings.siteName,
            senderEmail: form?.senderEmail ?? list?.senderEmail ?? settings.mailFrom.email,
            replyTo: form?.replyTo ?? list?.replyTo ?? "",
            editions: admin.theme.editions.all.map { Choice(value: $0.code, label: $0.name, selected: $0.code == edition) },
            forNewMembers: form.map { $0.forNewMembers == "1" } ?? list?.forNewMembers ?? false,
            breakingAlerts: form.map { $0.breakingAlerts == "1" } ?? list?.breakingAlerts ?? false,
            active: form.map { $0.active == "1" } ?? list?.active ?? true
        ), status: error == nil ? .ok : .unprocessableEntity)
    }

    func saveList(_ req: Request, list: Newsletter) async throws -> Response {
        let staff = try req.requireStaff(.manageNewsletters)
        let form = try req.content.decode(ListForm.self)
        let name = (form.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 80 else { return try editList(req, list: list, form: form, error: "Give the newsletter a name readers will see, up to 80 characters.") }
        guard (form.description ?? "").count <= 300 else { return try editList(req, list: list, form: form, error: "Keep the description under 300 characters.") }
        guard let sender = form.senderEmail.flatMap(EmailAddress.normalized) else { return try editList(req, list: list, form: form, error: "The sender's address must be an email address, such as news@example.com.") }
        let senderName = (form.senderName ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard senderName.count <= 80, !senderName.contains(where: \.isNewline) else { return try editList(req, list: list, form: form, error: "Keep the sender's name to one line of up to 80 characters.") }
        let replyText = (form.replyTo ?? "").trimmingCharacters(in: .whitespaces)
        let replyTo = replyText.isEmpty ? nil : EmailAddress.normalized(replyText)
        guard replyText.isEmpty || replyTo != nil else { return try editList(req, list: list, form: form, error: "The reply-to address must be an email address, or empty.") }
        guard let edition = form.edition.flatMap({ admin.theme.editions[$0] }) else { return try editList(req, list: list, form: form, error: "Choose the edition whose language the newsletter is written in.") }
        list.name = name
        list.description = (form.description ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        list.senderName = senderName
        list.senderEmail = sender
        list.replyTo = replyTo
        list.edition = edition.code
        list.forNewMembers = form.forNewMembers == "1"
        list.breakingAlerts = form.breakingAlerts == "1"
        list.active = form.active == "1"
        let isNew = list.id == nil
        try await req.db.writeTransaction { db in
            if isNew {
                list.slug = try await Self.freeSlug(for: name, on: db)
                list.position = (try await Newsletter.query(on: db).max(\.$position) ?? 0) + 1
                list.createdAt = Date()
            }
            try await list.save(on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, isNew ? "created newsletter" : "changed newsletter", name)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.newsletters, "saved"), redirectType: .normal)
    }

    private func list(_ req: Request) async throws -> Newsletter {
        guard let id = req.parameters.get("id", as: UUID.self), let list = try await Newsletter.find(id, on: req.db) else { throw SiteError.notFound }
        return list
    }

    private static func freeSlug(for name: String, on database: any Database) async throws -> String {
        let base = String(name.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "-" })
            .split(separator: "-").joined(separator: "-").prefix(40)
        let stem = base.isEmpty ? "newsletter" : String(base)
        var slug = stem, counter = 2
        while try await Newsletter.query(on: database).filter(\.$slug == slug).first() != nil {
            slug = "\(stem)-\(counter)"
            counter += 1
        }
        return slug
    }

    // MARK: Sends

    func compose(_ req: Request, form: SendForm? = nil, error: String? = nil, notice: String? = nil) async throws -> Response {
        _ = try req.requireStaff(.sendNewsletters)
        let chosenArticles = Set(form?.article ?? req.query[String.self, at: "article"].map { [$0] } ?? [])
        let chosenLists = Set(form?.newsletter ?? [])
        let recent = try await Article.query(on: req.db).filter(\.$status == .published).sort(\.$publishedAt, .descending).range(..<40).all()
        let lists = try await Newsletter.query(on: req.db).filter(\.$active == true).sort(\.$position).all()
        return try admin.render("admin/newsletter-send", ComposePage(
            layout: admin.layout("New send", for: req, current: AdminURL.newsletters),
            csrf: admin.token(req), error: error, notice: notice,
            subject: form?.subject ?? "", intro: form?.intro ?? "",
            articles: recent.compactMap { article in
                article.id.map { Choice(value: $0.uuidString, label: "\(article.title) (\(article.edition), \(article.visibility.rawValue))", selected: chosenArticles.contains($0.uuidString)) }
            },
            lists: lists.compactMap { list in list.id.map { Choice(value: $0.uuidString, label: "\(list.name) (\(list.edition))", selected: chosenLists.contains($0.uuidString)) } },
            scheduledAt: form?.scheduledAt ?? "", rate: form?.rate ?? "0", testTo: form?.testTo ?? ""
        ), status: error == nil ? .ok : .unprocessableEntity)
    }

    func submit(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.sendNewsletters)
        let form = try req.content.decode(SendForm.self)
        let articleIDs = (form.article ?? []).prefix(30).compactMap(UUID.init(uuidString:))
        let listIDs = (form.newsletter ?? []).prefix(20).compactMap(UUID.init(uuidString:))
        let scheduledText = (form.scheduledAt ?? "").trimmingCharacters(in: .whitespaces)
        let scheduled = scheduledText.isEmpty ? nil : admin.clock.parseLocalInput(scheduledText)
        guard scheduledText.isEmpty || scheduled != nil else { return try await compose(req, form: form, error: "Give the time to send as a date and time, or leave it empty to send now.") }
        guard let rate = Int((form.rate ?? "0").trimmingCharacters(in: .whitespaces).isEmpty ? "0" : (form.rate ?? "0")) else {
            return try await compose(req, form: form, error: "The rate limit is a whole number of messages a second (0 for none).")
        }
        let articles = try await Article.query(on: req.db).filter(\.$id ~~ articleIDs).all()
        let subject = (form.subject ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let draft = NewsletterSends.Draft(
            subject: subject.isEmpty ? (articles.count == 1 ? articles[0].title : "") : subject,
            intro: form.intro ?? "", articleIDs: articleIDs, newsletterIDs: listIDs,
            scheduledAt: scheduled, ratePerSecond: rate, createdBy: staff.email
        )
        if form.intent == "test" {
            return try await testSend(req, form: form, draft: draft)
        }
        do {
            let send = try await NewsletterSends(database: req.db, now: Date()).create(draft)
            try await AuditLog(database: req.db, now: Date()).record(staff.email, "sent newsletter", send.subject)
            return req.redirect(to: AdminURL.newsletterSend(try send.requireID()), redirectType: .normal)
        } catch let problem as NewsletterSends.Problem {
            return try await compose(req, form: form, error: "Not sent: \(problem.description).")
        }
    }

    /// One copy, as a paying member would receive it, to the address given: nothing is recorded.
    private func testSend(_ req: Request, form: SendForm, draft: NewsletterSends.Draft) async throws -> Response {
        guard let address = form.testTo.flatMap(EmailAddress.normalized) else { return try await compose(req, form: form, error: "Give the address the test copy goes to.") }
        guard !draft.articleIDs.isEmpty, let listID = draft.newsletterIDs.first, let list = try await Newsletter.find(listID, on: req.db) else {
            return try await compose(req, form: form, error: "Choose at least one article and one newsletter for the test copy.")
        }
        let send = NewsletterSend()
        send.id = UUID()
        send.alert = false
        send.subject = "[Test] " + (draft.subject.isEmpty ? list.name : draft.subject)
        send.intro = draft.intro
        send.articleIDs = draft.articleIDs
        send.newsletterIDs = [listID]
        let email = try await NewsletterRenderer.render(send, newsletter: list, access: .paid, pages: SitePages(theme: admin.theme, settings: admin.settings), database: req.db)
        do {
            _ = try await testTransport.send(email.message(to: .init(email: address), unsubscribeURL: admin.settings.publicURL + NewsletterLinks.page(edition: admin.theme.editions.defaultEdition)))
            try await AuditLog(database: req.db, now: Date()).record(try req.requireStaff(.sendNewsletters).email, "sent a newsletter test copy", "\(send.subject) to \(address)")
        } catch let error as MailError {
            return try await compose(req, form: form, error: "The test copy could not be sent: \(error.description).")
        }
        return try await compose(req, form: form, notice: "A test copy went to \(address). Check it, then send.")
    }

    func progress(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.sendNewsletters)
        guard let id = req.parameters.get("id", as: UUID.self), let send = try await NewsletterSend.find(id, on: req.db) else { throw SiteError.notFound }
        let progress = try await NewsletterSends(database: req.db, now: Date()).progress(of: send)
        let total = max(progress.total, send.recipients)
        let running = [.scheduled, .sending].contains(send.status)
        let response = try admin.render("admin/newsletter-progress", ProgressPage(
            layout: admin.layout(send.subject, for: req, current: AdminURL.newsletters),
            csrf: admin.token(req), subject: send.subject, status: send.status.rawValue, running: running,
            scheduledAt: admin.clock.dayAndTime(send.scheduledAt), total: total,
            percent: total == 0 ? (running ? 0 : 100) : progress.finished * 100 / total,
            counts: [
                Count(label: "Queued", value: progress.queued), Count(label: "Sent", value: progress.sent),
                Count(label: "Failed", value: progress.failed), Count(label: "Bounced", value: progress.bounced),
                Count(label: "Skipped (unsubscribed or suppressed first)", value: progress.skipped),
                Count(label: "Unconfirmed (handed over, the server's answer lost; not sent again)", value: progress.unconfirmed),
                Count(label: "Unsubscribed since", value: progress.unsubscribedSince),
            ],
            viewURL: NewsletterLinks.view(send: id),
            cancelAction: running && StaffPolicy.may(staff.role, .sendNewsletters) ? AdminURL.cancelNewsletterSend(id) : nil
        ))
        // While it runs, the page reloads itself: progress without script.
        if running { response.headers.replaceOrAdd(name: "Refresh", value: "3") }
        return response
    }

    func cancel(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.sendNewsletters)
        guard let id = req.parameters.get("id", as: UUID.self), let send = try await NewsletterSend.find(id, on: req.db) else { throw SiteError.notFound }
        try await NewsletterSends(database: req.db, now: Date()).cancel(send)
        try await AuditLog(database: req.db, now: Date()).record(staff.email, "cancelled newsletter", send.subject)
        return req.redirect(to: AdminURL.withNotice(AdminURL.newsletters, "cancelled"), redirectType: .normal)
    }
}
