import Fluent
import Foundation

/// Substack's email list, planned before anything is written: every reader a member; a paying
/// one with their subscriptions as Stripe has them (found by the customer id Substack exports,
/// so Stripe's webhooks and renewals carry on here), or, where Stripe cannot say, with
/// complimentary access to the end of what they paid for; comped and gifted readers with
/// complimentary access to their end date; and everyone who gets Substack's emails on one list.
struct SubstackMembersPlan: Sendable {
    struct Planned: ImportedMember, Sendable {
        let key: String
        let member: Member
        let subscriptions: [Subscription]
        let grant: ComplimentaryAccess?
        let receivesNewsletter: Bool
    }

    private(set) var members: [Planned] = []
    private(set) var notMapped: [String] = []
    private(set) var importedBefore = 0
    /// The list created for the readers, when the site has none by that address.
    private(set) var newsletter: Newsletter?
    private let newsletterID: UUID?
    private let newsletterKey: String
    private let alreadyOnList: Set<String>
    private let source: String
    private let now: Date

    /// A file may claim any end; a year and a bit is the most anyone pays ahead.
    static let longestPaidPeriod: TimeInterval = 366 * 86_400
    static let longestGrant: TimeInterval = 100 * 365 * 86_400

    init(
        readers: [SubstackExport.Reader], source: String, newsletter chosen: String?, settings: Settings, stripe: StripeProvider?,
        database: any Database, now: Date, progress: @escaping @Sendable (ContentImport.Step) -> Void
    ) async throws {
        self.source = source
        self.now = now
        let known = Dictionary(try await ImportedItem.query(on: database).filter(\.$source == source).all().map { ($0.sourceKey, $0.targetID) }) { first, _ in first }
        let existingEmails = Set(try await Member.query(on: database).all().map { $0.email.lowercased() })
        let existing = try await Subscription.query(on: database).all()
        var takenSubscriptions = Set(existing.map(\.providerSubscriptionID))
        var takenCustomers = Set(existing.map(\.providerCustomerID))

        let newsletterSlug = chosen ?? SubstackImport.defaultNewsletter
        newsletterKey = "newsletter:\(newsletterSlug)"
        if let list = try await Newsletter.query(on: database).filter(\.$slug == newsletterSlug).first() {
            // Readers join a list the outlet made only when the operator names it.
            if chosen != nil || known[newsletterKey] == list.id {
                newsletterID = try list.requireID()
                alreadyOnList = Set(try await NewsletterSubscription.query(on: database).filter(\.$newsletter.$id == list.requireID()).all().map { $0.email.lowercased() })
            } else {
                newsletterID = nil
                alreadyOnList = []
                notMapped.append("newsletter: the site already has a list at the address \(newsletterSlug), so readers joined no list; name the one they should join with --newsletter")
            }
        } else {
            let list = Newsletter(
                slug: newsletterSlug, name: settings.siteName, description: "", senderName: settings.siteName, senderEmail: settings.mailFrom.email.lowercased(),
                edition: settings.editionCodes[0], forNewMembers: true, position: try await Newsletter.query(on: database).count(), createdAt: now
            )
            list.id = UUID()
            newsletter = list
            newsletterID = list.id
            alreadyOnList = []
        }

        var chosen: [SubstackExport.Reader] = []
        var seen: Set<String> = []
        for reader in readers {
            guard let email = EmailAddress.normalized(reader.email), seen.insert(email).inserted else {
                notMapped.append("reader \(reader.email): not an address, or one the list has twice")
                continue
            }
            guard known["member:\(email)"] == nil else {
                importedBefore += 1
                continue
            }
            guard !email.hasSuffix("@deletion-request.substack.com") else {
                notMapped.append("reader \(email): asked Substack to delete their data, so they were left out")
                continue
            }
            guard !existingEmails.contains(email) else {
                notMapped.append("reader \(email): already a member here, left as they are")
                continue
            }
            chosen.append(reader)
        }

        // A customer two readers claim is given to neither: the file cannot say whose it is.
        let claims = Dictionary(grouping: chosen.compactMap(\.stripeCustomer), by: { $0 })
        let contested = Set(claims.filter { $0.value.count > 1 }.keys)
        let atStripe = try await Self.lookUp(chosen.filter { !contested.contains($0.stripeCustomer ?? "") }, at: stripe, progress: progress)
        for reader in chosen {
            let email = EmailAddress.normalized(reader.email)!
            let member = Member(email: email, name: HeaderText.oneLine(reader.name, limit: 200))
            member.id = UUID()
            let memberID = member.id!
            var subscriptions: [Subscription] = []
            var stripeSays: String?
            if let customer = reader.stripeCustomer, reader.access == .paid, stripe != nil {
                if contested.contains(customer) {
                    stripeSays = "the export gives their Stripe customer \(customer) to another reader too"
                } else if takenCustomers.contains(customer) {
                    stripeSays = "their Stripe customer \(customer) already belongs to a member here"
                } else if let found = atStripe[customer], !found.subscriptions.isEmpty {
                    // Only a customer Stripe knows by this reader's address is theirs.
                    if found.email.flatMap(EmailAddress.normalized) == email {
                        for state in found.subscriptions where [.active, .trialing, .pastDue, .canceled, .unpaid].contains(state.status) && takenSubscriptions.insert(state.id).inserted {
                            subscriptions.append(Self.subscription(state, member: memberID, now: now))
                        }
                        takenCustomers.insert(customer)
                    } else {
                        stripeSays = "Stripe has their customer \(customer) under another address"
                    }
                }
                if stripeSays == nil, !subscriptions.contains(where: { [.active, .trialing, .pastDue].contains($0.status) }) {
                    stripeSays = "Stripe has no current subscription for their customer \(customer)"
                }
            }
            let grant = reader.access == .paid && stripe != nil ? nil : complimentary(for: reader, email: email, member: memberID)
            if let stripeSays {
                notMapped.append("reader \(email): paid on Substack, but \(stripeSays); imported \(subscriptions.isEmpty ? "as a free member" : "with what Stripe has")")
            } else if reader.access == .paid, reader.stripeCustomer == nil, stripe != nil {
                if let expiry = reader.expiry, expiry <= now {
                    notMapped.append("reader \(email): paid on Substack until \(expiry.formatted(.iso8601)), so imported as a free member")
                } else {
                    notMapped.append("reader \(email): paid on Substack, but the export names no Stripe customer for them; imported as a free member")
                }
            }
            members.append(Planned(key: "member:\(email)", member: member, subscriptions: subscriptions, grant: grant, receivesNewsletter: !reader.emailDisabled))
        }
    }

    /// Every paying reader's subscriptions at Stripe, by customer id, eight questions at a time.
    /// An unanswered question stops the import: guessing would leave a paying reader without
    /// what they paid for, or keep one who cancelled.
    private static func lookUp(
        _ readers: [SubstackExport.Reader], at stripe: StripeProvider?, progress: @escaping @Sendable (ContentImport.Step) -> Void
    ) async throws -> [String: (email: String?, subscriptions: [BillingEvent.SubscriptionState])] {
        guard let stripe else { return [:] }
        let customers = Array(Set(readers.filter { $0.access == .paid }.compactMap(\.stripeCustomer)))
        guard !customers.isEmpty else { return [:] }
        progress(.lookingUpPayments(done: 0, total: customers.count))
        return try await withThrowingTaskGroup(of: (String, (email: String?, subscriptions: [BillingEvent.SubscriptionState])).self) { group in
            var found: [String: (email: String?, subscriptions: [BillingEvent.SubscriptionState])] = [:]
            var next = 0
            func ask() {
                guard next < customers.count else { return }
                let customer = customers[next]
                next += 1
                group.addTask {
                    do {
                        return (customer, try await stripe.subscriptions(ofCustomer: customer))
                    } catch {
                        throw ImportError("Stripe did not answer for the customer \(customer) (\(error)); nothing was imported. Run the import again, or without MASTHEAD_STRIPE_SECRET_KEY to give paying readers complimentary access to the end of what they paid for")
                    }
                }
            }
            for _ in 0..<8 { ask() }
            while let answer = try await group.next() {
                found[answer.0] = answer.1
                progress(.lookingUpPayments(done: found.count, total: customers.count))
                ask()
            }
            return found
        }
    }

    /// Complimentary access to the end the export gives: for comped and gifted readers, and for
    /// paying ones when Stripe is not configured here to say what they paid for.
    private mutating func complimentary(for reader: SubstackExport.Reader, email: String, member: UUID) -> ComplimentaryAccess? {
        guard reader.access != .free else { return nil }
        let described = switch reader.access {
        case .paid: "paid"
        case .gift: "a gift subscriber"
        default: "complimentary"
        }
        guard let expiry = reader.expiry ?? (reader.access == .comp ? now.addingTimeInterval(Self.longestGrant) : nil), expiry > now else {
            notMapped.append("reader \(email): \(described) on Substack until \(reader.expiry.map { $0.formatted(.iso8601) } ?? "an unknown date"), so imported as a free member")
            return nil
        }
        // Only complimentary access has no end in sight; paid or gifted access was bought for a period.
        let until = min(expiry, now.addingTimeInterval(reader.access == .comp ? Self.longestGrant : Self.longestPaidPeriod))
        let note: String
        switch reader.access {
        case .paid:
            let customer = reader.stripeCustomer.map { " (Stripe customer \($0))" } ?? ""
            notMapped.append("reader \(email): paid on Substack, but Stripe is not configured here (MASTHEAD_STRIPE_SECRET_KEY); complimentary access until \(until.formatted(.iso8601)), and nothing is charged here")
            note = "Paid on Substack until \(expiry.formatted(.iso8601))\(customer)"
        case .gift:
            note = "Gift subscription on Substack"
        default:
            note = "Complimentary on Substack"
        }
        return ComplimentaryAccess(memberID: member, emailDomain: nil, until: until, note: note, grantedBy: SiteImport.requester, createdAt: now)
    }

    /// A subscription as Stripe itself describes it: believed as it is, and older than any event
    /// Stripe sends about it later, so the first webhook's state wins.
    private static func subscription(_ state: BillingEvent.SubscriptionState, member: UUID, now: Date) -> Subscription {
        let subscription = Subscription()
        subscription.id = UUID()
        subscription.$member.id = member
        subscription.$plan.id = nil
        subscription.provider = "stripe"
        subscription.providerSubscriptionID = state.id
        subscription.fill(from: state, status: state.status)
        subscription.stateVersion = 0
        subscription.createdAt = now
        subscription.updatedAt = now
        return subscription
    }

    var paidMembers: Int { members.filter { $0.subscriptions.contains { [.active, .trialing, .pastDue].contains($0.status) } }.count }
    var compedMembers: Int { members.filter { $0.grant != nil }.count }
    /// A new list only for readers to join.
    var createsNewsletter: Bool { newsletter != nil && subscribers > 0 }
    var subscribers: Int { newsletterID == nil ? 0 : members.filter { $0.receivesNewsletter && !alreadyOnList.contains($0.member.email) }.count }

    func write(on database: any Database, rules: EntitlementRules) async throws {
        if let newsletter, createsNewsletter {
            try await newsletter.create(on: database)
            try await ImportedItem(source: source, key: newsletterKey, targetID: try newsletter.requireID(), at: now).create(on: database)
        }
        for planned in members {
            try await planned.create(on: database, source: source, at: now)
            if planned.receivesNewsletter, let newsletterID, !alreadyOnList.contains(planned.member.email) {
                try await planned.subscribe(to: newsletterID, on: database, at: now)
            }
        }
        try await Entitlements(database: database, rules: rules).refreshNew(memberIDs: members.compactMap(\.member.id))
    }
}
