import Fluent
import Foundation
import Vapor

/// A staff member's own security: their password, and two-step sign-in (TOTP), turned on by
/// proving an authenticator app has the secret, or off with a current code.
struct SecurityController: Sendable {
    let admin: AdminPages
    let settings: Settings

    struct Page {
        let layout: AdminPages.Layout
        let csrf: String
        let enabled: Bool
        let secret: String
        let uri: String
        let notice: String?
        let error: String?
        let passwordAction = AdminURL.changePassword
        let enableAction = AdminURL.enableTOTP
        let disableAction = AdminURL.disableTOTP
    }

    struct PasswordForm: Content {
        let current: String?
        let new: String?
    }

    struct CodeForm: Content {
        let secret: String?
        let code: String?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.security) { try page($0) }
        routes.post(AdminURL.Segment.security, AdminURL.Segment.totp) { try await enable($0) }
        routes.post(AdminURL.Segment.security, AdminURL.Segment.totp, AdminURL.Segment.disable) { try await disable($0) }
        routes.post(AdminURL.Segment.security, AdminURL.Segment.password) { try await changePassword($0) }
    }

    /// A new password, given the current one; every other browser signed in as this staff
    /// member is signed out.
    func changePassword(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff()
        let form = try req.content.decode(PasswordForm.self)
        guard try await req.password.async.verify(form.current ?? "", created: staff.passwordHash) else {
            return try page(req, error: "That is not your current password; nothing changed.", status: .unprocessableEntity)
        }
        let new = form.new ?? ""
        guard new.count >= StaffAccounts.minimumPasswordLength else {
            return try page(req, error: "Use at least \(StaffAccounts.minimumPasswordLength) characters for the new password.", status: .unprocessableEntity)
        }
        let hash = try await req.password.async.hash(new)
        let keep = SecretToken.digest(req.staffSessionToken ?? "")
        try await req.db.writeTransaction { db in
            staff.passwordHash = hash
            try await staff.save(on: db)
            try await StaffSession.query(on: db).filter(\.$staff.$id == staff.requireID()).filter(\.$tokenHash != keep).delete()
            // A token made by whoever had the old password must not outlive it.
            try await StaffTokens.revokeAll(of: staff.requireID(), on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "changed password", staff.email)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.security, "password"), redirectType: .normal)
    }

    func page(_ req: Request, secret given: TOTP? = nil, error: String? = nil, status: HTTPResponseStatus = .ok) throws -> Response {
        let staff = try req.requireStaff()
        let secret = given ?? TOTP.generate()
        let notice = req.query[String.self, at: "done"].flatMap { ["on": "Two-step sign-in is on.", "off": "Two-step sign-in is off.", "password": "Your password is changed, and other browsers are signed out."][$0] }
        return try admin.render("admin/security", Page(
            layout: admin.layout("Security", for: req), csrf: admin.token(req),
            enabled: staff.totpSecret != nil, secret: secret.base32,
            uri: secret.uri(account: staff.email, issuer: settings.siteName), notice: notice, error: error
        ), status: status)
    }

    func enable(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff()
        // Replacing a secret would switch off the code the disable form asks for.
        guard staff.totpSecret == nil else { return req.redirect(to: AdminURL.security, redirectType: .normal) }
        let form = try req.content.decode(CodeForm.self)
        guard let secret = TOTP(base32: form.secret ?? "") else { throw SiteError.badRequest(messageKey: "error_400_text") }
        guard let counter = secret.matchingCounter(for: form.code ?? "", at: Date()) else {
            return try page(req, secret: secret, error: "That code does not match. Check the app's clock and enter the current code.", status: .unprocessableEntity)
        }
        try await req.db.writeTransaction { db in
            staff.totpSecret = secret.base32
            staff.totpLastCounter = counter
            try await staff.save(on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "turned on two-step sign-in", staff.email)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.security, "on"), redirectType: .normal)
    }

    func disable(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff()
        let form = try req.content.decode(CodeForm.self)
        guard let secret = staff.totpSecret.flatMap(TOTP.init(base32:)),
              let counter = secret.matchingCounter(for: form.code ?? "", at: Date()), counter > staff.totpLastCounter ?? -1
        else {
            return try page(req, error: "That code does not match; two-step sign-in stays on.", status: .unprocessableEntity)
        }
        try await req.db.writeTransaction { db in
            staff.totpSecret = nil
            staff.totpLastCounter = nil
            try await staff.save(on: db)
            try await AuditLog(database: db, now: Date()).record(staff.email, "turned off two-step sign-in", staff.email)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.security, "off"), redirectType: .normal)
    }
}
