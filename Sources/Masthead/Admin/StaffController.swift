import Fluent
import Foundation
import Vapor

/// Managing the newsroom's staff: the list, invitations by email, role changes and removal.
struct StaffController: Sendable {
    let admin: AdminPages
    let mail: StaffMail

    struct Row {
        let name: String
        let email: String
        let role: String
        let state: String
        let roleAction: String?
        let removeAction: String?
        let resendAction: String?
        let roles: [Option]
    }

    struct ListPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let errors: [String: String]
        let rows: [Row]
        let roles: [Option]
        let email: String
        let name: String
        let inviteAction = AdminURL.staff
    }

    struct InviteForm: Content {
        let email: String?
        let name: String?
        let role: String?
    }

    struct RoleForm: Content {
        let role: String?
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.staff) { try await list($0) }
        routes.post(AdminURL.Segment.staff) { try await invite($0) }
        routes.post(AdminURL.Segment.staff, ":id", AdminURL.Segment.role) { try await changeRole($0) }
        routes.post(AdminURL.Segment.staff, ":id", AdminURL.Segment.remove) { try await remove($0) }
        routes.post(AdminURL.Segment.staff, ":id", AdminURL.Segment.resend) { try await resend($0) }
    }

    func list(_ req: Request, notice: String? = nil, errors: [String: String] = [:], form: InviteForm? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let manager = try req.requireStaff(.manageStaff)
        let staff = try await Staff.query(on: req.db).sort(\.$name).all()
        let assignable = StaffPolicy.assignableRoles(by: manager.role)
        let noticeText = notice ?? req.query[String.self, at: "done"].flatMap { ["invited": "Invitation sent.", "changed": "Role changed.", "removed": "Account removed.", "resent": "A new invitation is on its way."][$0] }
        return try admin.render("admin/staff", ListPage(
            layout: admin.layout("Staff", for: req, current: AdminURL.staff),
            csrf: admin.token(req), notice: noticeText, errors: errors,
            rows: staff.map { member in
                let manageable = StaffPolicy.mayManage(manager, member)
                return Row(
                    name: member.name, email: member.email, role: member.role.rawValue,
                    state: member.passwordHash.isEmpty ? "invited" : (member.totpSecret == nil ? "active" : "active, two-step"),
                    roleAction: manageable ? AdminURL.staffRole(member.id!) : nil,
                    removeAction: manageable ? AdminURL.removeStaff(member.id!) : nil,
                    resendAction: manageable && member.passwordHash.isEmpty ? AdminURL.resendInvitation(member.id!) : nil,
                    roles: assignable.map { Option(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0 == member.role) }
                )
            },
            roles: assignable.map { Option(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0.rawValue == (form?.role ?? StaffRole.author.rawValue)) },
            email: form?.email ?? "", name: form?.name ?? ""
        ), status: status)
    }

    func invite(_ req: Request) async throws -> Response {
        let manager = try req.requireStaff(.manageStaff)
        let form = try req.content.decode(InviteForm.self)
        guard let role = StaffRole(rawValue: form.role ?? "") else {
            return try await list(req, errors: ["role": "Choose a role."], form: form, status: .unprocessableEntity)
        }
        let invited: (Staff, String)
        do {
            invited = try await StaffPasswords(database: req.db, now: Date())
                .invite(email: form.email ?? "", name: form.name ?? "", role: role, by: manager)
        } catch EditorialError.invalid(let problems) {
            return try await list(req, errors: problems, form: form, status: .unprocessableEntity)
        }
        return try await send(req, invitation: invited.1, to: invited.0, from: manager, done: "invited")
    }

    func resend(_ req: Request) async throws -> Response {
        let (manager, member) = try await manageable(req)
        do {
            let token = try await StaffPasswords(database: req.db, now: Date()).reinvite(member, by: manager)
            return try await send(req, invitation: token, to: member, from: manager, done: "resent")
        } catch EditorialError.invalid(let problems) {
            return try await list(req, errors: problems, status: .unprocessableEntity)
        }
    }

    /// Mails an invitation; when the mail server fails, the account stays and the page says how
    /// to try again rather than showing an error page.
    private func send(_ req: Request, invitation token: String, to member: Staff, from manager: Staff, done: String) async throws -> Response {
        do {
            try await mail.sendInvitation(token: token, to: member, from: manager)
        } catch {
            req.logger.error("staff.invitation.mail_failed", metadata: ["error": "\(error)"])
            return try await list(req, errors: ["email": "The account for \(member.email) is ready, but the invitation email could not be sent (\(error)). Use Resend invitation once mail works again."], status: .badGateway)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.staff, done), redirectType: .normal)
    }

    func changeRole(_ req: Request) async throws -> Response {
        let (manager, member) = try await manageable(req)
        guard let role = StaffRole(rawValue: try req.content.decode(RoleForm.self).role ?? ""),
              StaffPolicy.assignableRoles(by: manager.role).contains(role)
        else { throw EditorialError.forbidden }
        try await req.db.writeTransaction { db in
            let before = member.role
            member.role = role
            try await member.save(on: db)
            try await AuditLog(database: db, now: Date()).record(manager.email, "changed role \(before.rawValue) → \(role.rawValue)", member.email)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.staff, "changed"), redirectType: .normal)
    }

    func remove(_ req: Request) async throws -> Response {
        let (manager, member) = try await manageable(req)
        try await req.db.writeTransaction { db in
            try await member.delete(on: db)
            try await AuditLog(database: db, now: Date()).record(manager.email, "removed staff", member.email)
        }
        return req.redirect(to: AdminURL.withNotice(AdminURL.staff, "removed"), redirectType: .normal)
    }

    private func manageable(_ req: Request) async throws -> (Staff, Staff) {
        let manager = try req.requireStaff(.manageStaff)
        let member = try await req.record(Staff.self)
        guard StaffPolicy.mayManage(manager, member) else { throw EditorialError.forbidden }
        return (manager, member)
    }
}
