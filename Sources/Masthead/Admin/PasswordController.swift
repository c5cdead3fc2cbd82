import Fluent
import Foundation
import Vapor

/// Choosing a password from an invitation or reset link, and asking for a reset link. These
/// pages are reached signed out, so their forms are bound to the pre-session CSRF cookie.
struct PasswordController: Sendable {
    let admin: AdminPages
    let csrf: CSRF
    let mail: StaffMail
    let settings: Settings
    let detachedWork: DetachedWork
    let resets: APIRateLimiter

    struct ResetPage {
        let layout: AdminPages.Layout
        let csrf: String
        let sent: Bool
        let action = AdminURL.reset
    }

    struct PasswordPage {
        let layout: AdminPages.Layout
        let csrf: String
        let token: String
        let heading: String
        let email: String
        let error: String?
        let action = AdminURL.password
    }

    struct ResetForm: Content {
        let email: String?
    }

    struct PasswordForm: Content {
        let token: String?
        let password: String?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.reset) { try resetForm($0, sent: false) }
        routes.post(AdminURL.Segment.reset) { try await requestReset($0) }
        routes.get(AdminURL.Segment.password) { try await passwordForm($0) }
        routes.post(AdminURL.Segment.password) { try await setPassword($0) }
    }

    func resetForm(_ req: Request, sent: Bool) throws -> Response {
        let (token, fresh) = formToken(req)
        let response = try admin.render("admin/reset", ResetPage(layout: admin.layout("Reset your password", for: req), csrf: token, sent: sent))
        if let fresh { response.cookies[CSRF.cookieName] = settings.cookie(fresh, for: req, maxAge: nil) }
        return response
    }

    /// The answer is the same whether or not the address has an account, in words and in
    /// time: the address is looked up and the email sent after the answer, so neither the
    /// work nor the mail server's delay or failure (which only known addresses could meet)
    /// tells who works here. A failure goes to the log for the operator. A client asking too
    /// often, or a flood that has the maximum of such work under way, gets the same answer and
    /// no mail.
    func requestReset(_ req: Request) async throws -> Response {
        let form = try req.content.decode(ResetForm.self)
        let passwords = StaffPasswords(database: req.application.db, now: Date()), mail = mail, logger = req.logger, email = form.email ?? ""
        guard (try? resets.count(req.clientAddress)) != nil else {
            logger.notice("staff.reset_rate_limited")
            return try resetForm(req, sent: true)
        }
        let started = detachedWork.start {
            do {
                if let (staff, token) = try await passwords.requestReset(email: email) {
                    try await mail.sendReset(token: token, to: staff)
                }
            } catch {
                logger.error("staff.reset_failed", metadata: ["error": "\(error)"])
            }
        }
        if !started { logger.warning("staff.reset_refused_busy") }
        return try resetForm(req, sent: true)
    }

    func passwordForm(_ req: Request, token given: String? = nil, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let token = given ?? req.query[String.self, at: "token"] ?? ""
        guard token.count < 100, let (staff, purpose) = try await StaffPasswords(database: req.db, now: Date()).holder(of: token) else {
            throw SiteError.badRequest(messageKey: "error_staff_link")
        }
        let (csrfToken, fresh) = formToken(req)
        let response = try admin.render("admin/password", PasswordPage(
            layout: admin.layout("Choose a password", for: req), csrf: csrfToken, token: token,
            heading: purpose == .invitation ? "Welcome to the \(settings.siteName) admin" : "Choose a new password",
            email: staff.email, error: error
        ), status: status)
        if let fresh { response.cookies[CSRF.cookieName] = settings.cookie(fresh, for: req, maxAge: nil) }
        return response
    }

    func setPassword(_ req: Request) async throws -> Response {
        let form = try req.content.decode(PasswordForm.self)
        let token = form.token ?? ""
        do {
            _ = try await StaffPasswords(database: req.db, now: Date()).setPassword(token: token, password: form.password ?? "") {
                try await req.password.async.hash($0)
            }
        } catch EditorialError.invalid(let problems) {
            if problems["token"] != nil { throw SiteError.badRequest(messageKey: "error_staff_link") }
            return try await passwordForm(req, token: token, error: problems.values.first, status: .unprocessableEntity)
        }
        return req.redirect(to: AdminURL.signIn(notice: "password-set"), redirectType: .normal)
    }

    private func formToken(_ req: Request) -> (String, String?) {
        let (binding, fresh) = csrf.binding(for: req, session: nil)
        return (csrf.token(for: binding), fresh)
    }
}
