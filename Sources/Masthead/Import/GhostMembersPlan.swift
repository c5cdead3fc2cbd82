import Fluent
import Foundation

/// Ghost's members, their access and their newsletters, planned before anything is written:
/// a paid member arrives with their Stripe subscription (customer and subscription ids kept,
/// so Stripe's webhooks find them), a comped one with complimentary access, and every member
/// with the newsletters they received.
struct GhostMembersPlan: Sendable {
    struct Planned: ImportedMember, Sendable {
        let key: String
        let member: Member
        let subscriptions: [Subscription]
        let grant: ComplimentaryAccess?
        let newsletterKeys: [String]
    }

    private(set) var members: [Planned] = []
    private(set) var newsletters: [(key: String, newsletter: Newsletter)] = []
    private(set) var notMapped: [String] = []
    private(set) var importedBefore = 0
    private let source: String
    private let known: [String: UUID]
    private let existingNewsletters: [String: UUID]
    private let now: Date

    /// Complimentary access on Ghost has no end; here it runs for a century.
    static let compedYears = 100.0

    init(export: GhostExport, source: String, settings: Settings, database: any Database, now: Date) async throws {
        self.source = source
        self.now = now
        known = Dictionary(try await ImportedItem.query(on: database).filter(\.$source == source).all().map { ($0.sourceKey, $0.targetID) }) { first, _ in first }
        existingNewsletters = Dictionary(try await Newsletter.query(on: database).all().map { ($0.slug, try $0.requireID()) }) { first, _ in first }
        let existingEmails = Set(try await Member.query(on: database).all().map { $0.email.lowercased() })
        let existing = try await Subscription.query(on: database).all()
        let existingSubscriptions = Set(existing.map(\.providerSubscriptionID))
        let existingCustomers = Set(existing.map(\.providerCustomerID))
        let tables = export.tables
        var plannedSlugs: Set<String> = []
        var plannedSubscriptions: Set<String> = []

        for (position, ghost) in (tables.newsletters ?? []).enumerated() {
            let key = "newsletter:\(ghost.id)"
            let slug = ContentPlan.asciiSlug(ghost.slug, fallback: "newsletter-\(position + 1)")
            guard known[key] == nil else { continue }
            guard existingNewsletters[slug] == nil, plannedSlugs.insert(slug).inserted else {
                notMapped.append("newsletter “\(ghost.name)”: a newsletter here already has the address \(slug); its readers were not added to it")
                continue
            }
            let sender = Self.sender(ghost.senderEmail, settings: settings)
            if let given = ghost.senderEmail, sender != given.lowercased() {
                notMapped.append("newsletter “\(ghost.name)”: sent from \(sender) rather than \(given), an address outside this site's mail domain")
            }
            let newsletter = Newsletter(
                slug: slug, name: Self.headerSafe(ghost.name), description: ghost.description ?? "",
                senderName: Self.headerSafe(ghost.senderName ?? settings.siteName), senderEmail: sender,
                edition: settings.editionCodes[0], forNewMembers: ghost.subscribeOnSignup ?? false, position: ghost.sortOrder ?? position, createdAt: now
            )
            newsletter.id = UUID()
            newsletter.replyTo = ghost.senderReplyTo.flatMap(EmailAddress.normalized)
            newsletter.active = ghost.status != "archived"
            newsletters.append((key, newsletter))
        }

        let customers = Dictionary(grouping: tables.membersStripeCustomers ?? [], by: \.memberId)
        let subscriptionsOf = Dictionary(grouping: tables.membersStripeCustomersSubscriptions ?? [], by: \.customerId)
        let newslettersOf = Dictionary(grouping: tables.membersNewsletters ?? [], by: { $0.memberId ?? "" })
        let labelNames = Dictionary((tables.labels ?? []).map { ($0.id, $0.name) }) { first, _ in first }
        let labelsOf = Dictionary(grouping: tables.membersLabels ?? [], by: { $0.memberId ?? "" })
        var seen: Set<String> = []
        var seenIDs: Set<String> = []
        for ghost in tables.members ?? [] {
            let key = "member:\(ghost.id)"
            guard known[key] == nil else {
                importedBefore += 1
                continue
            }
            guard let email = EmailAddress.normalized(ghost.email), seen.insert(email).inserted, seenIDs.insert(ghost.id).inserted else {
                notMapped.append("member \(ghost.email): not an address, or one the export has twice")
                continue
            }
            guard !existingEmails.contains(email) else {
                notMapped.append("member \(email): already a member here, left as they are")
                continue
            }
            let member = Member(email: email, name: ghost.name ?? "")
            member.id = UUID()
            let memberID = member.id!
            var subscriptions: [Subscription] = []
            for customer in customers[ghost.id] ?? [] {
                guard !existingCustomers.contains(customer.customerId) else {
                    notMapped.append("member \(email): the Stripe customer \(customer.customerId) already belongs to a member here; their subscriptions were left out")
                    continue
                }
                for found in subscriptionsOf[customer.customerId] ?? [] {
                    guard !existingSubscriptions.contains(found.subscriptionId), plannedSubscriptions.insert(found.subscriptionId).inserted else {
                        notMapped.append("member \(email): the Stripe subscription \(found.subscriptionId) is already here, or twice in the export; left out")
                        continue
                    }
                    guard let subscription = Self.subscription(found, customer: customer.customerId, member: memberID, now: now) else {
                        notMapped.append("member \(email): the Stripe subscription \(found.subscriptionId) has a status or period Masthead cannot read; left out")
                        continue
                    }
                    if let paidTo = GhostExport.date(found.currentPeriodEnd), paidTo > subscription.currentPeriodEnd {
                        notMapped.append("member \(email): the export says they paid until \(paidTo.formatted(.iso8601)), longer than one period from now; access runs to \(subscription.currentPeriodEnd.formatted(.iso8601)) until Stripe says more")
                    }
                    subscriptions.append(subscription)
                }
            }
            var grant: ComplimentaryAccess?
            switch ghost.status {
            case "comped":
                grant = ComplimentaryAccess(memberID: memberID, emailDomain: nil, until: now.addingTimeInterval(Self.compedYears * 365 * 86_400),
                                            note: "Complimentary on Ghost", grantedBy: SiteImport.requester, createdAt: now)
            case "paid" where subscriptions.isEmpty:
                notMapped.append("member \(email): paid on Ghost, but the export has no Stripe subscription for them; imported as a free member")
            default:
                break
            }
            let labels = (labelsOf[ghost.id] ?? []).compactMap { $0.labelId.flatMap { labelNames[$0] } }
            if !labels.isEmpty {
                notMapped.append("member \(email): labels \(labels.sorted().joined(separator: ", ")) not kept (Masthead has no member labels)")
            }
            members.append(Planned(
                key: key, member: member, subscriptions: subscriptions, grant: grant,
                newsletterKeys: (newslettersOf[ghost.id] ?? []).compactMap { $0.newsletterId.map { "newsletter:\($0)" } }
            ))
        }
        newsletterKeys = (tables.newsletters ?? []).map { "newsletter:\($0.id)" }
    }

    private var newsletterKeys: [String] = []

    /// What the export says of a Stripe subscription, believed no further than one period from
    /// now: a file could claim any end, and only Stripe's own events (which find the subscription
    /// by its id) may extend it.
    private static func subscription(_ ghost: GhostExport.StripeSubscription, customer: String, member: UUID, now: Date) -> Subscription? {
        guard let status = Subscription.Status(rawValue: ghost.status), [.active, .trialing, .pastDue, .canceled, .unpaid].contains(status),
              let claimedEnd = GhostExport.date(ghost.currentPeriodEnd),
              !ghost.subscriptionId.isEmpty, ghost.subscriptionId.count <= 255, !customer.isEmpty, customer.count <= 255
        else { return nil }
        let interval: Plan.Interval = ghost.planInterval == "month" ? .month : .year
        let periodEnd = min(claimedEnd, now.addingTimeInterval((interval == .month ? 31 : 366) * 86_400))
        let subscription = Subscription()
        subscription.id = UUID()
        subscription.$member.id = member
        subscription.$plan.id = nil
        subscription.provider = "stripe"
        subscription.providerSubscriptionID = ghost.subscriptionId
        subscription.providerCustomerID = customer
        subscription.status = status
        subscription.currentPeriodStart = GhostExport.date(ghost.startDate)
        subscription.currentPeriodEnd = periodEnd
        subscription.cancelAtPeriodEnd = ghost.cancelAtPeriodEnd ?? false
        subscription.endedAt = status == .canceled ? min(periodEnd, now) : nil
        subscription.amountMinor = ghost.planAmount ?? 0
        subscription.currency = (ghost.planCurrency ?? "usd").lowercased()
        subscription.interval = interval
        // Older than any event Stripe will send about it: the first webhook's state wins.
        subscription.stateVersion = 0
        subscription.createdAt = now
        subscription.updatedAt = now
        return subscription
    }

    /// The sender a newsletter may use: the export's address when it is in this site's mail
    /// domain, else the site's own, so a file cannot make the outlet's server send as anyone.
    private static func sender(_ given: String?, settings: Settings) -> String {
        let own = settings.mailFrom.email.lowercased()
        let domain = own.split(separator: "@").last.map(String.init) ?? ""
        guard let address = given.flatMap(EmailAddress.normalized), address.hasSuffix("@" + domain) else { return own }
        return address
    }

    /// A name that goes into a mail header: one line, of reasonable length.
    private static func headerSafe(_ text: String) -> String {
        HeaderText.oneLine(text, limit: 100)
    }

    var paidMembers: Int { members.filter { !$0.subscriptions.isEmpty }.count }
    var compedMembers: Int { members.filter { $0.grant != nil }.count }
    var subscribers: Int { members.reduce(0) { $0 + $1.newsletterKeys.count } }

    func write(on database: any Database, rules: EntitlementRules) async throws {
        for (key, newsletter) in newsletters {
            try await newsletter.create(on: database)
            try await ImportedItem(source: source, key: key, targetID: try newsletter.requireID(), at: now).create(on: database)
        }
        var newsletterIDs = Dictionary(newsletters.map { ($0.key, $0.newsletter.id!) }) { first, _ in first }
        // Lists imported before from this source, never one the outlet made: joining those
        // takes the reader's own confirmation.
        for key in newsletterKeys where newsletterIDs[key] == nil {
            newsletterIDs[key] = known[key]
        }
        for planned in members {
            try await planned.create(on: database, source: source, at: now)
            for key in Set(planned.newsletterKeys) {
                guard let newsletterID = newsletterIDs[key] else { continue }
                try await planned.subscribe(to: newsletterID, on: database, at: now)
            }
        }
        try await Entitlements(database: database, rules: rules).refreshNew(memberIDs: members.compactMap(\.member.id))
    }
}
