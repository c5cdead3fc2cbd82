import Fluent
import Foundation
import Vapor

/// Content API keys, one per integration (a mobile app, a partner site, a widget): made by an
/// admin with the access its readers get, shown once, and revoked here.
struct IntegrationsController: Sendable {
    let admin: AdminPages
    let keys: APIKeys

    struct Row {
        let name: String
        let access: String
        let keyHint: String
        let created: String
        let revokeAction: String
    }

    struct Page {
        let layout: AdminPages.Layout
        let csrf: String
        let action = AdminURL.integrations
        let notice: String?
        let error: String?
        /// The key just made: on this page only, never again.
        let newKey: String?
        let newKeyName: String?
        let rows: [Row]
        let hasRows: Bool
        let accessOptions: [Option]
        let name: String
        let apiURL: String
    }

    struct Form: Content {
        var name: String?
        var access: String?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.integrations) { try await list($0) }
        routes.post(AdminURL.Segment.integrations) { try await create($0) }
        routes.post(AdminURL.Segment.integrations, ":id", AdminURL.Segment.revoke) { try await revoke($0) }
    }

    func list(_ req: Request, error: String? = nil, form: Form? = nil, created: (name: String, key: String)? = nil) async throws -> Response {
        _ = try req.requireStaff(.manageIntegrations)
        let integrations = try await APIIntegration.query(on: req.db).filter(\.$revokedAt == nil).sort(\.$createdAt, .descending).all()
        let notice: String? = req.query[String.self, at: "done"] == "revoked" ? "The key is revoked: requests with it are refused." : nil
        return try admin.render("admin/integrations", Page(
            layout: admin.layout("Integrations", for: req, current: AdminURL.integrations),
            csrf: admin.token(req), notice: notice, error: error,
            newKey: created?.key, newKeyName: created?.name,
            rows: try integrations.map { integration in
                Row(
                    name: integration.name, access: Self.describe(integration.access), keyHint: "…" + integration.keyHint,
                    created: integration.createdAt.map(admin.clock.day) ?? "",
                    revokeAction: AdminURL.revokeIntegration(try integration.requireID())
                )
            },
            hasRows: !integrations.isEmpty,
            accessOptions: APIIntegration.Access.allCases.map {
                Option(value: $0.rawValue, label: Self.describe($0), selected: $0.rawValue == (form?.access ?? APIIntegration.Access.public.rawValue))
            },
            name: form?.name ?? "",
            apiURL: admin.settings.publicURL + APIPaths.contentPrefix + "/"
        ), status: error == nil ? .ok : .unprocessableEntity)
    }

    func create(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.manageIntegrations)
        let form = try req.content.decode(Form.self)
        let name = (form.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            return try await list(req, error: "Give the integration a name of up to 100 characters, such as “iOS app”.", form: form)
        }
        guard let access = form.access.flatMap(APIIntegration.Access.init(rawValue:)) else {
            return try await list(req, error: "Choose what the integration may read.", form: form)
        }
        let key = try await req.db.writeTransaction { db in
            let (_, key) = try await APIKeys.create(name: name, access: access, by: staff, on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "created an API key", "\(name) (\(access.rawValue))")
            return key
        }
        return try await list(req, created: (name, key))
    }

    func revoke(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.manageIntegrations)
        let integration = try await req.record(APIIntegration.self)
        guard integration.revokedAt == nil else { throw SiteError.notFound }
        try await req.db.writeTransaction { db in
            try await APIKeys.revoke(integration, on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "revoked an API key", integration.name)
        }
        keys.forget(integration)
        return req.redirect(to: AdminURL.withNotice(AdminURL.integrations, "revoked"), redirectType: .normal)
    }

    static func describe(_ access: APIIntegration.Access) -> String {
        switch access {
        case .public: "Public: previews of members' and paid articles"
        case .members: "Members: members' articles whole, previews of paid ones"
        case .paid: "Paid: every article whole"
        }
    }
}
