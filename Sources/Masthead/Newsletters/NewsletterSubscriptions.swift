import Fluent
import Foundation
import SQLKit

/// Who receives which list: subscribing by form with a confirmation email (double opt-in),
/// members choosing on their account page, new members put on the lists meant for them, and
/// unsubscribing. Every answer to the public form is the same whatever the address's state,
/// so the form tells no one who is subscribed.
struct NewsletterSubscriptions: Sendable {
    let database: any Database
    let now: Date

    /// How long a confirmation link works.
    static let confirmationLifetime: TimeInterval = 7 * 86_400
    /// Confirmation emails an address is sent at most, and one client may ask for, an hour.
    static let confirmationsPerAddressPerHour = 3
    static let requestsPerClientPerHour = 10

    enum Outcome: Equatable {
        /// A confirmation email with this token is in the outbox.
        case confirm(token: String)
        /// Nothing to send: already subscribed, or asked too often.
        case nothingToSend
        case rateLimited
    }

    /// The active lists offered to readers, in the outlet's order.
    func offered() async throws -> [Newsletter] {
        try await Newsletter.query(on: database).filter(\.$active == true).sort(\.$position).all()
    }

    /// A reader asks for lists by the public form. Lists the address is already on stay as they
    /// are; the others wait, pending, for the emailed link. Every confirmation email is counted,
    /// per address and per client, so the form cannot be made to flood anyone's inbox; and a
    /// name typed into it never overwrites one already stored.
    func request(email: String, name: String, newsletters: [Newsletter], clientAddress: String, confirmation: @escaping @Sendable (String) -> EmailMessage) async throws -> Outcome {
        let hourAgo = now.addingTimeInterval(-3600)
        let byClient = try await NewsletterRequest.query(on: database).filter(\.$clientAddress == clientAddress).filter(\.$createdAt > hourAgo).count()
        let byAddress = try await NewsletterRequest.query(on: database).filter(\.$email == email).filter(\.$createdAt > hourAgo).count()
        guard byClient < Self.requestsPerClientPerHour, byAddress < Self.confirmationsPerAddressPerHour else { return .rateLimited }
        let token = SecretToken.generate()
        let waiting = try await database.writeTransaction { db in
            var waiting = false
            for newsletter in newsletters {
                let id = try newsletter.requireID()
                let existing = try await NewsletterSubscription.query(on: db).filter(\.$newsletter.$id == id).filter(\.$email == email).first()
                if existing?.status == .active { continue }
                let subscription = existing ?? NewsletterSubscription(newsletterID: id, email: email, name: name, memberID: nil, status: .pending, source: .form, createdAt: now)
                subscription.status = .pending
                subscription.confirmTokenHash = SecretToken.digest(token)
                subscription.createdAt = now
                try await subscription.save(on: db)
                waiting = true
            }
            // The link is mailed with the rows that wait for it, or neither exists.
            if waiting {
                try await NewsletterRequest(email: email, clientAddress: clientAddress, createdAt: now).create(on: db)
                try await Outbox(database: db, now: now).enqueue(confirmation(token), purpose: "newsletter.confirm")
            }
            return waiting
        }
        return waiting ? .confirm(token: token) : .nothingToSend
    }

    /// Forgets what the form left behind: unconfirmed subscriptions once their link has
    /// expired (addresses whose owners never agreed), and request records once no limit counts them.
    func sweep() async throws {
        try await NewsletterSubscription.query(on: database).filter(\.$status == .pending)
            .filter(\.$createdAt < now.addingTimeInterval(-Self.confirmationLifetime)).delete()
        try await NewsletterRequest.query(on: database).filter(\.$createdAt < now.addingTimeInterval(-86_400)).delete()
    }

    /// The pending subscriptions a confirmation link names, while it works.
    func pending(token: String) async throws -> [NewsletterSubscription] {
        guard !token.isEmpty, token.count <= 100 else { return [] }
        return try await NewsletterSubscription.query(on: database)
            .filter(\.$confirmTokenHash == SecretToken.digest(token)).filter(\.$status == .pending)
            .filter(\.$createdAt > now.addingTimeInterval(-Self.confirmationLifetime))
            .with(\.$newsletter).all()
    }

    /// Confirms what the link asked for; returns the lists now subscribed to.
    func confirm(token: String) async throws -> [Newsletter] {
        let subscriptions = try await pending(token: token)
        guard !subscriptions.isEmpty else { return [] }
        let member = try await MemberAccounts(database: database).find(email: subscriptions[0].email)
        try await database.writeTransaction { db in
            for subscription in subscriptions {
                subscription.status = .active
                subscription.confirmTokenHash = nil
                subscription.confirmedAt = now
                subscription.unsubscribedAt = nil
                subscription.$member.id = subscription.$member.id ?? member?.id
                try await subscription.save(on: db)
            }
        }
        return subscriptions.map(\.newsletter)
    }

    /// Ends one subscription (a one-click link, or the member's choice). True when it was on.
    @discardableResult
    func unsubscribe(_ id: UUID) async throws -> Bool {
        guard let subscription = try await NewsletterSubscription.find(id, on: database) else { return false }
        guard subscription.status != .unsubscribed else { return false }
        subscription.status = .unsubscribed
        subscription.unsubscribedAt = now
        subscription.confirmTokenHash = nil
        try await subscription.save(on: database)
        return true
    }

    /// The lists a member is on, by list.
    func subscribed(member: Member) async throws -> Set<UUID> {
        let rows = try await NewsletterSubscription.query(on: database).filter(\.$email == member.email).filter(\.$status == .active).all()
        return Set(rows.map(\.$newsletter.id))
    }

    /// A signed-in member's choices from their account page: their address is proven, so what
    /// they tick is active at once, and what they untick ends.
    func setChoices(member: Member, chosen: Set<UUID>) async throws {
        let offered = try await offered()
        try await database.writeTransaction { db in
            let scoped = NewsletterSubscriptions(database: db, now: now)
            for newsletter in offered {
                let id = try newsletter.requireID()
                let existing = try await NewsletterSubscription.query(on: db).filter(\.$newsletter.$id == id).filter(\.$email == member.email).first()
                if chosen.contains(id) {
                    try await scoped.activate(existing, newsletter: id, member: member, source: .account)
                } else if let existing, existing.status != .unsubscribed {
                    try await scoped.unsubscribe(try existing.requireID())
                }
            }
        }
    }

    /// Puts a new member on the lists meant for new members, in the transaction that created
    /// them. Their address is proven now, so a pending request for it is confirmed too; a list
    /// they once left stays left.
    func welcome(_ member: Member) async throws {
        for newsletter in try await Newsletter.query(on: database).filter(\.$active == true).filter(\.$forNewMembers == true).all() {
            let existing = try await NewsletterSubscription.query(on: database).filter(\.$newsletter.$id == newsletter.requireID()).filter(\.$email == member.email).first()
            guard existing == nil || existing?.status == .pending else { continue }
            try await activate(existing, newsletter: try newsletter.requireID(), member: member, source: .signup)
        }
    }

    private func activate(_ existing: NewsletterSubscription?, newsletter: UUID, member: Member, source: NewsletterSubscription.Source) async throws {
        if let existing, existing.status == .active { return }
        let subscription = existing ?? NewsletterSubscription(newsletterID: newsletter, email: member.email, name: member.name, memberID: member.id, status: .active, source: source, createdAt: now)
        subscription.status = .active
        subscription.confirmedAt = now
        subscription.unsubscribedAt = nil
        subscription.confirmTokenHash = nil
        subscription.$member.id = member.id
        try await subscription.save(on: database)
    }
}
