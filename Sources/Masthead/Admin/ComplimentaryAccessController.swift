import Fluent
import Foundation
import Vapor

/// Paid access given without payment: to one member from their page, or to every member at an
/// email domain. Each grant and withdrawal is audited and recomputes the entitlement of whoever
/// it covers in the same transaction.
struct ComplimentaryAccessController: Sendable {
    let admin: AdminPages
    let viewers: Viewers
    let rules: EntitlementRules
    let mail: BillingMail

    struct GrantForm: Content {
        let until: String?
        let note: String?
        let domain: String?
    }

    struct DomainRow {
        let domain: String
        let until: String
        let note: String?
        let grantedBy: String
        let members: Int
        let revokeAction: String
    }

    struct DomainsPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let error: String?
        let rows: [DomainRow]
        let hasRows: Bool
        let domain: String
        let until: String
        let note: String
        let action = AdminURL.domainGrants
    }

    func register(on routes: any RoutesBuilder) {
        routes.post(AdminURL.Segment.members, ":id", AdminURL.Segment.complimentary) { try await grantToMember($0) }
        routes.post(AdminURL.Segment.members, ":id", AdminURL.Segment.complimentary, ":grant", AdminURL.Segment.revoke) { try await revokeFromMember($0) }
        routes.get(AdminURL.Segment.complimentary) { try await domains($0) }
        routes.post(AdminURL.Segment.complimentary) { try await grantToDomain($0) }
        routes.post(AdminURL.Segment.complimentary, ":grant", AdminURL.Segment.revoke) { try await revokeDomainGrant($0) }
    }

    func grantToMember(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.grantComplimentaryAccess)
        let member = try await req.record(Member.self)
        let memberID = try member.requireID()
        let form = try req.content.decode(GrantForm.self)
        guard let until = admin.clock.parseEndOfDay(form.until ?? ""), until > Date() else {
            return req.redirect(to: AdminURL.withNotice(AdminURL.member(memberID), "grant-date"), redirectType: .normal)
        }
        let note = String((form.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        try await req.db.writeTransaction { db in
            let now = Date()
            try await ComplimentaryAccess(memberID: memberID, emailDomain: nil, until: until, note: note, grantedBy: staff.email, createdAt: now).create(on: db)
            try await Entitlements(database: db, rules: rules).refresh(memberID: memberID)
            try await mail.enqueue(.complimentary, for: memberID, subscription: nil, until: until, on: db, now: now)
            try await AuditLog(database: db, now: now).record(staff.email, "gave complimentary access", "\(member.email) until \(admin.clock.day(until))")
        }
        viewers.forgetAll()
        return req.redirect(to: AdminURL.withNotice(AdminURL.member(memberID), "granted"), redirectType: .normal)
    }

    func revokeFromMember(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.grantComplimentaryAccess)
        let member = try await req.record(Member.self)
        let memberID = try member.requireID()
        let grant = try await req.record(ComplimentaryAccess.self, at: "grant")
        guard grant.$member.id == memberID else { throw SiteError.notFound }
        try await req.db.writeTransaction { db in
            try await grant.delete(on: db)
            try await Entitlements(database: db, rules: rules).refresh(memberID: memberID)
            try await AuditLog(database: db, now: Date()).record(staff.email, "withdrew complimentary access", member.email)
        }
        viewers.forgetAll()
        return req.redirect(to: AdminURL.withNotice(AdminURL.member(memberID), "revoked"), redirectType: .normal)
    }

    func domains(_ req: Request, error: String? = nil, form: GrantForm? = nil) async throws -> Response {
        _ = try req.requireStaff(.grantComplimentaryAccess)
        let grants = try await ComplimentaryAccess.query(on: req.db).filter(\.$emailDomain != nil).sort(\.$createdAt, .descending).all()
        var rows: [DomainRow] = []
        for grant in grants {
            let domain = grant.emailDomain ?? ""
            let covered = try await Member.query(on: req.db).filter(\.$email ~= "@\(domain)").count()
                + Member.query(on: req.db).filter(\.$email ~= ".\(domain)").count()
            rows.append(DomainRow(
                domain: domain, until: admin.clock.day(grant.until.addingTimeInterval(-1)), note: grant.note.isEmpty ? nil : grant.note, grantedBy: grant.grantedBy,
                members: covered, revokeAction: AdminURL.revokeDomainGrant(try grant.requireID())
            ))
        }
        let notice: String? = switch req.query[String.self, at: "done"] {
        case "granted": "Everyone at that domain can now read paid articles."
        case "revoked": "The domain's complimentary access is withdrawn."
        default: nil
        }
        return try admin.render("admin/complimentary", DomainsPage(
            layout: admin.layout("Complimentary access", for: req, current: AdminURL.members),
            csrf: admin.token(req), notice: notice, error: error, rows: rows, hasRows: !rows.isEmpty,
            domain: form?.domain ?? "", until: form?.until ?? "", note: form?.note ?? ""
        ), status: error == nil ? .ok : .unprocessableEntity)
    }

    func grantToDomain(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.grantComplimentaryAccess)
        let form = try req.content.decode(GrantForm.self)
        guard let domain = ComplimentaryAccess.normalizedDomain(form.domain ?? "") else {
            return try await domains(req, error: "Give a domain such as example.ac.uk (every address there and at its subdomains is covered).", form: form)
        }
        guard let until = admin.clock.parseEndOfDay(form.until ?? ""), until > Date() else {
            return try await domains(req, error: "Give the last day of access, today or later.", form: form)
        }
        let note = String((form.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        try await req.db.writeTransaction { db in
            let now = Date()
            try await ComplimentaryAccess(memberID: nil, emailDomain: domain, until: until, note: note, grantedBy: staff.email, createdAt: now).create(on: db)
            try await Entitlements(database: db, rules: rules).refresh(domain: domain)
            try await AuditLog(database: db, now: now).record(staff.email, "gave complimentary access", "everyone at \(domain) until \(admin.clock.day(until))")
        }
        viewers.forgetAll()
        return req.redirect(to: AdminURL.withNotice(AdminURL.domainGrants, "granted"), redirectType: .normal)
    }

    func revokeDomainGrant(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.grantComplimentaryAccess)
        let grant = try await req.record(ComplimentaryAccess.self, at: "grant")
        guard let domain = grant.emailDomain else { throw SiteError.notFound }
        try await req.db.writeTransaction { db in
            try await grant.delete(on: db)
            try await Entitlements(database: db, rules: rules).refresh(domain: domain)
            try await AuditLog(database: db, now: Date()).record(staff.email, "withdrew complimentary access", "everyone at \(domain)")
        }
        viewers.forgetAll()
        return req.redirect(to: AdminURL.withNotice(AdminURL.domainGrants, "revoked"), redirectType: .normal)
    }
}
