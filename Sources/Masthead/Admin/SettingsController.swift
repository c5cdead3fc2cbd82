import Fluent
import Foundation
import Vapor

/// The site settings page (admins and the owner): outlet name, logo, extra navigation links,
/// membership price, paywall preview length and meters. Saving stores them, re-splits every
/// article if the preview length changed, and bumps the content generation so every instance
/// re-renders with them.
struct SettingsController: Sendable {
    let admin: AdminPages
    let settings: Settings

    struct Page {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let hasErrors: Bool
        let siteName: String
        let membershipPrice: String
        let previewParagraphs: Int
        let memberMeter: Int
        let anonymousMeter: Int
        let logo: String?
        let navigation: String
        let timeZones: [Option]
        let formAction = AdminURL.settings
    }

    struct Form: Content {
        var siteName: String?
        var membershipPrice: String?
        var previewParagraphs: String?
        var memberMeter: String?
        var anonymousMeter: String?
        var navigation: String?
        var timeZone: String?
        var logo: File?
        var removeLogo: String?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.settings) { try page($0) }
        routes.on(.POST, AdminURL.Segment.settings, body: .collect(maxSize: ByteCount(value: MediaLibrary.maximumBytes + 1_000_000))) { try await save($0) }
    }

    func page(_ req: Request, form: Form? = nil, errors: [String: String] = [:], status: HTTPResponseStatus = .ok) throws -> Response {
        _ = try req.requireStaff(.manageSettings)
        let notice = req.query[String.self, at: "done"] == "saved" ? "Settings saved. The site uses them now." : nil
        return try admin.render("admin/settings", Page(
            layout: admin.layout("Settings", for: req, current: AdminURL.settings),
            csrf: admin.token(req), notice: notice, errors: errors, hasErrors: !errors.isEmpty,
            siteName: form?.siteName ?? settings.siteName,
            membershipPrice: form?.membershipPrice ?? settings.membershipPrice,
            previewParagraphs: form?.previewParagraphs.flatMap { Int($0) } ?? settings.previewParagraphs,
            memberMeter: form?.memberMeter.flatMap { Int($0) } ?? settings.memberMeter,
            anonymousMeter: form?.anonymousMeter.flatMap { Int($0) } ?? settings.anonymousMeter,
            logo: settings.logoPath.map(SiteURL.media),
            navigation: form?.navigation ?? settings.extraNavigation.map { "\($0.label) | \($0.url)" }.joined(separator: "\n"),
            timeZones: (["GMT"] + TimeZone.knownTimeZoneIdentifiers.filter { $0 != "GMT" }.sorted()).map {
                Option(value: $0, label: $0.replacingOccurrences(of: "_", with: " "), selected: $0 == (form?.timeZone ?? settings.timeZone.identifier))
            }
        ), status: status)
    }

    func save(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.manageSettings)
        let form = try req.content.decode(Form.self)
        // From what is stored, not this instance's copy, so a change made through another
        // instance a moment ago is not undone.
        var values = try await SiteSettingsStore.load(on: req.db)
        var errors: [String: String] = [:]

        let name = (form.siteName ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 100 { errors["siteName"] = "Give the outlet a name of up to 100 characters." } else { values.siteName = name }
        let price = (form.membershipPrice ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if price.isEmpty || price.count > 40 { errors["membershipPrice"] = "Give the price as readers should see it, such as $100." } else { values.membershipPrice = price }
        func number(_ text: String?, _ field: String, _ range: ClosedRange<Int>, _ message: String) -> Int? {
            guard let value = Int((text ?? "").trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                errors[field] = message
                return nil
            }
            return value
        }
        let preview = number(form.previewParagraphs, "previewParagraphs", 1...20, "The preview length is a number of paragraphs from 1 to 20.")
        values.memberMeter = number(form.memberMeter, "memberMeter", 0...100, "The members' meter is a number from 0 to 100.") ?? values.memberMeter
        values.anonymousMeter = number(form.anonymousMeter, "anonymousMeter", 0...100, "The anonymous meter is a number from 0 to 100.") ?? values.anonymousMeter
        switch Self.navigation(form.navigation ?? "") {
        case .success(let links): values.navigation = links
        case .failure(let problem): errors["navigation"] = problem.message
        }
        if let zone = form.timeZone {
            if TimeZone(identifier: zone) != nil { values.timeZone = zone } else { errors["timeZone"] = "Choose the newsroom's time zone from the list." }
        }
        if form.removeLogo != nil { values.logoPath = nil }
        if let logo = form.logo, logo.data.readableBytes > 0 {
            do {
                values.logoPath = try MediaLibrary(directory: settings.mediaDirectory).store(Data(buffer: logo.data)).path
            } catch let problem as MediaLibrary.Problem {
                errors["logo"] = problem.description
            }
        }
        guard errors.isEmpty, let preview else { return try page(req, form: form, errors: errors, status: .unprocessableEntity) }
        let resplit = preview != settings.previewParagraphs
        values.previewParagraphs = preview
        let saved = values
        try await req.db.writeTransaction { db in
            try await SiteSettingsStore.save(saved, on: db)
            if resplit {
                for article in try await Article.query(on: db).with(\.$text).all() {
                    article.setBody(markdown: try article.loadedMarkdown, previewParagraphs: preview)
                    try await article.save(on: db)
                    try await article.saveText(on: db)
                    // The preview row of a gated article must not keep words now behind the paywall.
                    if article.status == .published { try await SearchIndexing(database: db).refresh(try article.requireID()) }
                }
            }
            try await AuditLog(database: db, now: Date()).record(staff.email, "changed settings", resplit ? "preview length now \(preview) paragraphs" : "site settings")
            try await ContentGeneration.bump(on: db, purging: .everything)
        }
        settings.live.adopt(saved)
        return req.redirect(to: AdminURL.withNotice(AdminURL.settings, "saved"), redirectType: .normal)
    }

    struct NavigationProblem: Error {
        let message: String
    }

    /// One link per line, `Label | /path` or `Label | https://…`.
    static func navigation(_ text: String) -> Result<[SiteSettingsValues.Link], NavigationProblem> {
        var links: [SiteSettingsValues.Link] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 40,
                  (parts[1].hasPrefix("/") && !parts[1].hasPrefix("//")) || parts[1].hasPrefix("https://")
            else { return .failure(.init(message: "Write each link as: Label | /path (or an https:// address). “\(line.prefix(60))” is not.")) }
            links.append(.init(label: parts[0], url: parts[1]))
        }
        guard links.count <= 10 else { return .failure(.init(message: "Add at most 10 links.")) }
        return .success(links)
    }
}
