import Fluent
import Foundation
import Vapor

/// The members list for admins: filter by plan and address, and export as CSV.
struct MembersAdminController: Sendable {
    static let pageSize = 100

    let admin: AdminPages
    let viewers: Viewers

    struct Row {
        let url: String
        let email: String
        let name: String
        let plan: String
        let status: String
        let paidUntil: String
        let joined: String
    }

    struct Page {
        let layout: AdminPages.Layout
        let query: String
        let plans: [Option]
        let statuses: [Option]
        let rows: [Row]
        let count: Int
        let csvURL: String
        let olderURL: String?
        let newerURL: String?
        let filterAction = AdminURL.members
        let domainGrantsURL = AdminURL.domainGrants
    }

    struct SubscriptionRow {
        let plan: String
        let provider: String
        let status: String
        let price: String
        let periodEnd: String
        let started: String
    }

    struct GrantRow {
        let until: String
        let note: String?
        let grantedBy: String
        let domain: String?
        let revokeAction: String?
    }

    struct GiftRow {
        /// "To someone@example.com", "From someone@example.com".
        let party: String
        let plan: String
        let price: String
        let status: String
        let date: String
    }

    struct DetailPage {
        let layout: AdminPages.Layout
        let csrf: String
        let notice: String?
        let email: String
        let name: String
        let plan: String
        let paidUntil: String?
        let subscriptions: [SubscriptionRow]
        let hasSubscriptions: Bool
        let grants: [GrantRow]
        let hasGrants: Bool
        let gifts: [GiftRow]
        let hasGifts: Bool
        let mayGrant: Bool
        let grantAction: String
        let joined: String
        let sessions: Int
        let lastSignIn: String?
        let gatedReads: Int
        let signOutAction: String
        let listURL = AdminURL.members
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.members) { try await list($0) }
        routes.get(AdminURL.Segment.membersCSV) { try await csv($0) }
        routes.get(AdminURL.Segment.members, ":id") { try await detail($0) }
        routes.post(AdminURL.Segment.members, ":id", AdminURL.Segment.signOut) { try await signOutEverywhere($0) }
    }

    /// One member's account as support sees it: plan, activity, and a way to end their sessions.
    func detail(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.viewMembers)
        let member = try await req.record(Member.self)
        let id = try member.requireID()
        let dates = admin.clock
        let now = Date()
        let sessions = try await MemberSession.query(on: req.db).filter(\.$member.$id == id).filter(\.$expiresAt > now).sort(\.$createdAt, .descending).all()
        let reads = try await Metering(database: req.db, now: now).reads(member: id)
        let subscriptions = try await Subscription.query(on: req.db).filter(\.$member.$id == id).with(\.$plan).sort(\.$createdAt, .descending).all()
        let ownGrants = try await ComplimentaryAccess.query(on: req.db).filter(\.$member.$id == id).sort(\.$until, .descending).all()
        let domainGrants = try await ComplimentaryAccess.query(on: req.db).filter(\.$emailDomain != nil).all()
            .filter { ComplimentaryAccess.domain($0.emailDomain ?? "", covers: member.email) }
        let given = try await Gift.query(on: req.db).join(Checkout.self, on: \Gift.$checkout.$id == \Checkout.$id)
            .filter(Checkout.self, \.$member.$id == id).filter(\.$status != .pending).all()
        let received = try await Gift.query(on: req.db).filter(\.$redeemedBy.$id == id).all()
        let gifts = (given.map { ("To \($0.recipientEmail)", $0) } + received.map { ("From \($0.giverEmail)", $0) })
            .sorted { $0.1.createdAt > $1.1.createdAt }
            .map { party, gift in
                GiftRow(party: party, plan: gift.planName, price: gift.money.formatted(locale: Locale(identifier: "en_GB")),
                        status: gift.status.rawValue + (gift.accessUntil.map { ", reads until \(dates.day($0.addingTimeInterval(-1)))" } ?? ""),
                        date: dates.day(gift.paidAt ?? gift.createdAt))
            }
        let mayGrant = StaffPolicy.may(staff.role, .grantComplimentaryAccess)
        let grants = try ownGrants.map { grant in
            GrantRow(until: dates.day(grant.until.addingTimeInterval(-1)), note: grant.note.isEmpty ? nil : grant.note, grantedBy: grant.grantedBy, domain: nil,
                     revokeAction: mayGrant ? AdminURL.revokeFromMember(id, grant: try grant.requireID()) : nil)
        } + domainGrants.map { GrantRow(until: dates.day($0.until.addingTimeInterval(-1)), note: $0.note.isEmpty ? nil : $0.note, grantedBy: $0.grantedBy, domain: $0.emailDomain, revokeAction: nil) }
        let notices = [
            "signedout": "Every session of this member has ended.",
            "granted": "Complimentary access given.",
            "revoked": "Complimentary access withdrawn.",
            "grant-date": "Give the last day of complimentary access, today or later.",
        ]
        return try admin.render("admin/member", DetailPage(
            layout: admin.layout(member.email, for: req, current: AdminURL.members),
            csrf: admin.token(req),
            notice: req.query[String.self, at: "done"].flatMap { notices[$0] },
            email: member.email, name: member.name,
            plan: member.viewer(at: now) == .paidMember ? "paid" : "free",
            paidUntil: member.paidUntil.map(dates.day),
            subscriptions: subscriptions.map { subscription in
                SubscriptionRow(
                    plan: subscription.plan?.name ?? "—", provider: subscription.provider == "test" ? "test mode" : subscription.provider,
                    status: subscription.status.rawValue.replacingOccurrences(of: "_", with: " ") + (subscription.cancelAtPeriodEnd ? ", cancels at period end" : ""),
                    price: Money(minor: subscription.amountMinor, currency: subscription.currency).formatted(locale: Locale(identifier: "en_GB")) + " a \(subscription.interval.rawValue)",
                    periodEnd: dates.day(subscription.currentPeriodEnd), started: dates.day(subscription.createdAt)
                )
            },
            hasSubscriptions: !subscriptions.isEmpty,
            grants: grants, hasGrants: !grants.isEmpty, gifts: gifts, hasGifts: !gifts.isEmpty, mayGrant: mayGrant, grantAction: AdminURL.grantToMember(id),
            joined: member.createdAt.map(dates.dayAndTime) ?? "",
            sessions: sessions.count,
            lastSignIn: sessions.first.map { dates.dayAndTime($0.createdAt) },
            gatedReads: reads,
            signOutAction: AdminURL.signOutMember(id)
        ))
    }

    func signOutEverywhere(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.viewMembers)
        let member = try await req.record(Member.self)
        try await req.db.writeTransaction { db in
            try await MemberSessions(database: db, now: Date()).revokeAll(memberID: try member.requireID())
            try await AuditLog(database: db, now: Date()).record(staff.email, "signed out member", member.email)
        }
        viewers.forgetAll()
        return req.redirect(to: AdminURL.withNotice(AdminURL.member(member.id!), "signedout"), redirectType: .normal)
    }


    func list(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.viewMembers)
        let found = try await matching(req)
        let page = max(1, min(req.query[Int.self, at: "page"] ?? 1, 100_000))
        let dates = admin.clock
        let shown = found.members.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize)
        let query = [("plan", found.plan), ("status", found.status?.rawValue), ("q", found.text.isEmpty ? nil : found.text)].compactMap { key, value in
            value.map { "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        }.joined(separator: "&")
        let planChoices = ["free", "paid", "complimentary"] + found.plans.map(\.slug)
        return try admin.render("admin/members", Page(
            layout: admin.layout("Members", for: req, current: AdminURL.members),
            query: found.text,
            plans: planChoices.map { choice in Option(value: choice, label: found.plans.first { $0.slug == choice }?.name ?? choice.capitalized, selected: choice == found.plan) },
            statuses: Subscription.Status.allCases.map { Option(value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " ").capitalized, selected: $0 == found.status) },
            rows: shown.map { member in
                let billing = found.billing[member.id!]
                return Row(
                    url: AdminURL.member(member.id!), email: member.email, name: member.name,
                    plan: billing?.planLabel ?? "free", status: billing?.status ?? "",
                    paidUntil: member.paidUntil.map(dates.day) ?? "",
                    joined: member.createdAt.map(dates.day) ?? ""
                )
            },
            count: found.members.count,
            csvURL: AdminURL.membersCSV(filter: query),
            olderURL: found.members.count > page * Self.pageSize ? AdminURL.members(filter: query, page: page + 1) : nil,
            newerURL: page > 1 ? AdminURL.members(filter: query, page: page - 1) : nil
        ))
    }

    /// RFC 4180 CSV of the filtered members; the export itself is recorded in the audit log.
    func csv(_ req: Request) async throws -> Response {
        let staff = try req.requireStaff(.viewMembers)
        let found = try await matching(req)
        let now = Date()
        var lines = ["email,name,plan,paid_until,joined,subscription_plan,subscription_status,complimentary_until"]
        for member in found.members {
            let billing = found.billing[member.id!]
            lines.append([
                member.email, member.name, member.viewer(at: now) == .paidMember ? "paid" : "free",
                member.paidUntil.map(EditionDates.iso) ?? "", member.createdAt.map(EditionDates.iso) ?? "",
                billing?.planName ?? "", billing?.status ?? "", billing?.complimentaryUntil.map(EditionDates.iso) ?? "",
            ].map(Self.csvField).joined(separator: ","))
        }
        try await AuditLog(database: req.db, now: now).record(staff.email, "exported members", "\(found.members.count) members")
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "text/csv; charset=utf-8")
        headers.add(name: .contentDisposition, value: "attachment; filename=\"members.csv\"")
        headers.add(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: lines.joined(separator: "\r\n") + "\r\n"))
    }

    /// Quotes a field when needed, and defuses values a spreadsheet would run as a formula.
    static func csvField(_ value: String) -> String {
        var text = value
        // By scalar: in Swift "\r\n" is one Character, so a lone CR or LF would slip past a
        // Character test and start a new row of the reader's choosing.
        if let first = text.unicodeScalars.first, "=+-@\t\r\n".unicodeScalars.contains(first) { text = "'" + text }
        guard text.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A member's billing as the list shows it: their current subscription and complimentary access.
    struct MemberBilling {
        let planName: String?
        let planSlug: String?
        let status: String?
        let statusValue: Subscription.Status?
        let complimentaryUntil: Date?

        var planLabel: String {
            if let planName { return planName }
            return complimentaryUntil.map { _ in "complimentary" } ?? "free"
        }
    }

    /// The domain of an address and every domain above it, which a grant to any of them covers.
    private static func domains(of email: String) -> [String] {
        guard let host = email.split(separator: "@").last else { return [] }
        let labels = host.split(separator: ".")
        return (0..<max(0, labels.count - 1)).map { labels[$0...].joined(separator: ".") }
    }

    struct Found {
        let members: [Member]
        let billing: [UUID: MemberBilling]
        let plans: [Masthead.Plan]
        let plan: String?
        let status: Subscription.Status?
        let text: String
    }

    /// The members the filters name: paid or free now, with complimentary access, on a plan,
    /// with a subscription in a state, or whose address or name contains the text.
    private func matching(_ req: Request) async throws -> Found {
        let plans = try await Masthead.Plan.query(on: req.db).sort(\.$position).all()
        let plan = req.query[String.self, at: "plan"].flatMap { wanted in
            ["free", "paid", "complimentary"].contains(wanted) || plans.contains { $0.slug == wanted } ? wanted : nil
        }
        let status = req.query[String.self, at: "status"].flatMap(Subscription.Status.init(rawValue:))
        let text = String((req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespaces).lowercased().prefix(200))
        let now = Date()
        let members = try await Member.query(on: req.db).sort(\.$createdAt, .descending).all()
        let subscriptions = Dictionary(grouping: try await Subscription.query(on: req.db).with(\.$plan).sort(\.$updatedAt, .descending).all(), by: \.$member.id)
        let grants = try await ComplimentaryAccess.query(on: req.db).all()
        let memberGrants = Dictionary(grouping: grants.filter { $0.$member.id != nil }, by: { $0.$member.id! })
        let domainGrants = Dictionary(grouping: grants.compactMap { grant in grant.emailDomain.map { ($0, grant.until) } }, by: \.0).mapValues { $0.map(\.1).max()! }
        var billing: [UUID: MemberBilling] = [:]
        for member in members {
            let id = member.id!
            let latest = subscriptions[id]?.first
            let complimentary = ((memberGrants[id] ?? []).map(\.until) + Self.domains(of: member.email).compactMap { domainGrants[$0] }).max()
            billing[id] = MemberBilling(
                planName: latest?.plan?.name, planSlug: latest?.plan?.slug,
                status: latest.map { $0.status.rawValue.replacingOccurrences(of: "_", with: " ") }, statusValue: latest?.status,
                complimentaryUntil: complimentary.flatMap { $0 > now ? $0 : nil }
            )
        }
        let filtered = members.filter { member in
            let info = billing[member.id!]
            switch plan {
            case "paid": if member.viewer(at: now) != .paidMember { return false }
            case "free": if member.viewer(at: now) == .paidMember { return false }
            case "complimentary": if info?.complimentaryUntil == nil { return false }
            case let slug?: if info?.planSlug != slug { return false }
            case nil: break
            }
            if let status, info?.statusValue != status { return false }
            return text.isEmpty || member.email.contains(text) || member.name.lowercased().contains(text)
        }
        return Found(members: filtered, billing: billing, plans: plans, plan: plan, status: status, text: text)
    }
}
