import Fluent
import Foundation
import Vapor

/// Each staff member's own tokens for the Admin API: named, scoped, expiring, shown once.
/// A token acts with its owner's role as it is when used, so a demotion narrows it at once.
struct APITokensController: Sendable {
    let admin: AdminPages

    struct Row {
        let name: String
        let scopes: String
        let tokenHint: String
        let expires: String
        let revokeAction: String
    }

    struct ScopeOption {
        let value: String
        let id: String
        let label: String
        let checked: Bool
    }

    struct LifetimeOption {
        let value: Int
        let label: String
        let selected: Bool
    }

    struct Page {
        let layout: AdminPages.Layout
        let csrf: String
        let action = AdminURL.tokens
        let notice: String?
        let error: String?
        let newToken: String?
        let newTokenName: String?
        let rows: [Row]
        let hasRows: Bool
        let scopes: [ScopeOption]
        let lifetimes: [LifetimeOption]
        let name: String
        let apiURL: String
    }

    struct Form: Content {
        var name: String?
        var scopes: [String]?
        var days: Int?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.tokens) { try await list($0) }
        routes.post(AdminURL.Segment.tokens) { try await create($0) }
        routes.post(AdminURL.Segment.tokens, ":id", AdminURL.Segment.revoke) { try await revoke($0) }
    }

    func list(_ req: Request, error: String? = nil, form: Form? = nil, created: (name: String, token: String)? = nil) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let tokens = try await StaffAPIToken.query(on: req.db)
            .filter(\.$staff.$id == staff.requireID()).filter(\.$revokedAt == nil).filter(\.$expiresAt > Date())
            .sort(\.$expiresAt).all()
        let chosen = Set(form?.scopes ?? [AdminAPIScope.articlesRead.rawValue, AdminAPIScope.articlesWrite.rawValue])
        return try admin.render("admin/tokens", Page(
            layout: admin.layout("API tokens", for: req, current: AdminURL.tokens),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"] == "revoked" ? "The token is revoked: requests with it are refused." : nil,
            error: error, newToken: created?.token, newTokenName: created?.name,
            rows: try tokens.map { token in
                Row(
                    name: token.name, scopes: token.scopes.map(\.rawValue).sorted().joined(separator: ", "), tokenHint: "…" + token.tokenHint,
                    expires: admin.clock.day(token.expiresAt), revokeAction: AdminURL.revokeToken(try token.requireID())
                )
            },
            hasRows: !tokens.isEmpty,
            scopes: AdminAPIScope.allCases.map {
                ScopeOption(value: $0.rawValue, id: "scope-" + $0.rawValue.replacingOccurrences(of: ":", with: "-"), label: Self.describe($0), checked: chosen.contains($0.rawValue))
            },
            lifetimes: StaffTokens.lifetimes.map { LifetimeOption(value: $0, label: "\($0) days", selected: $0 == (form?.days ?? 30)) },
            name: form?.name ?? "",
            apiURL: admin.settings.publicURL + APIPaths.adminPrefix + "/"
        ), status: error == nil ? .ok : .unprocessableEntity)
    }

    func create(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let form = try req.content.decode(Form.self)
        let name = (form.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            return try await list(req, error: "Give the token a name of up to 100 characters, such as “wire importer”.", form: form)
        }
        let scopes = Set((form.scopes ?? []).compactMap(AdminAPIScope.init(rawValue:)))
        guard !scopes.isEmpty, scopes.count == (form.scopes ?? []).count else {
            return try await list(req, error: "Choose at least one thing the token may do.", form: form)
        }
        guard let days = form.days, StaffTokens.lifetimes.contains(days) else {
            return try await list(req, error: "Choose how long the token lives.", form: form)
        }
        let secret = try await req.db.writeTransaction { db in
            let (_, secret) = try await StaffTokens.create(for: staff, name: name, scopes: scopes, days: days, on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "created an API token", "\(name) (\(scopes.map(\.rawValue).sorted().joined(separator: " ")), \(days) days)")
            return secret
        }
        return try await list(req, created: (name, secret))
    }

    func revoke(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.writeArticles)
        let token = try await req.record(StaffAPIToken.self)
        // Only the owner revokes a token here; an admin removes a person's access by their account.
        guard token.$staff.id == staff.id, token.revokedAt == nil else { throw SiteError.notFound }
        try await req.db.writeTransaction { db in
            try await StaffTokens.revoke(token, on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "revoked an API token", token.name)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.tokens, "revoked"), redirectType: .normal)
    }

    static func describe(_ scope: AdminAPIScope) -> String {
        switch scope {
        case .articlesRead: "Read articles, drafts included (articles:read)"
        case .articlesWrite: "Write and delete drafts (articles:write)"
        case .articlesPublish: "Publish, schedule and unpublish (articles:publish)"
        case .mediaWrite: "Upload images (media:write)"
        }
    }
}
