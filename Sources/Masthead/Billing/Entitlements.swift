import Fluent
import Foundation
import SQLKit

/// Keeps each member's `paid_until` equal to what `Entitlement` derives from their
/// subscriptions, complimentary access and redeemed gifts, recomputed in the transaction that changes either.
/// When it changes, every instance is told to forget what it remembered of sessions (their
/// access level with them).
struct Entitlements: Sendable {
    let database: any Database
    let rules: EntitlementRules

    func refresh(memberID: UUID) async throws {
        guard let member = try await Member.find(memberID, on: database) else { return }
        let domainGrants = try await ComplimentaryAccess.query(on: database).filter(\.$emailDomain != nil).all()
        try await refresh(member, domainGrants: domainGrants)
    }

    /// Members an import has just created in this transaction: nothing else can change them
    /// meanwhile, so no per-member lock is taken (thousands would exhaust PostgreSQL's lock table).
    func refreshNew(memberIDs: [UUID]) async throws {
        let domainGrants = try await ComplimentaryAccess.query(on: database).filter(\.$emailDomain != nil).all()
        for memberID in memberIDs {
            guard let member = try await Member.find(memberID, on: database) else { continue }
            try await refresh(member, domainGrants: domainGrants, locking: false)
        }
    }

    /// Every member a domain grant covers, after it was given or taken back.
    func refresh(domain: String) async throws {
        let domainGrants = try await ComplimentaryAccess.query(on: database).filter(\.$emailDomain != nil).all()
        let members = try await Member.query(on: database).filter(\.$email ~= ".\(domain)").all()
            + Member.query(on: database).filter(\.$email ~= "@\(domain)").all()
        for member in members where ComplimentaryAccess.domain(domain, covers: member.email) {
            try await refresh(member, domainGrants: domainGrants)
        }
    }

    /// Members still reading on a subscription whose provider no longer counts (test-mode
    /// "payments" on a site that now takes real ones): their access is recomputed at start-up.
    func reconcileProviders() async throws {
        let uncounted = try await Subscription.query(on: database).filter(\.$provider !~ Array(rules.countedProviders)).all()
        for memberID in Set(uncounted.map(\.$member.id)) {
            try await database.writeTransaction { db in
                try await Entitlements(database: db, rules: rules).refresh(memberID: memberID)
            }
        }
    }

    /// What a member joining now starts with: access their address's domain was given.
    static func complimentaryUntil(forNewAddress email: String, on database: any Database) async throws -> Date? {
        try await ComplimentaryAccess.query(on: database).filter(\.$emailDomain != nil).all()
            .filter { ComplimentaryAccess.domain($0.emailDomain ?? "", covers: email) }.map(\.until).max()
    }

    /// The first key of these PostgreSQL advisory locks, so they meet no other locks.
    static let lockNamespace: Int32 = 0x45_4E_54

    private func refresh(_ member: Member, domainGrants: [ComplimentaryAccess], locking: Bool = true) async throws {
        let memberID = try member.requireID()
        // One recomputation of a member at a time (a grant racing a webhook), each reading
        // what the other committed.
        let sql = database as! any SQLDatabase
        if locking, sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.lockNamespace), hashtext(\(bind: memberID.uuidString)))").run()
        }
        let subscriptions = try await Subscription.query(on: database).filter(\.$member.$id == memberID).all()
        let ownGrants = try await ComplimentaryAccess.query(on: database).filter(\.$member.$id == memberID).all()
        let grants = ownGrants + domainGrants.filter { ComplimentaryAccess.domain($0.emailDomain ?? "", covers: member.email) }
        let gifts = try await Gift.query(on: database).filter(\.$redeemedBy.$id == memberID).filter(\.$status == .redeemed).all()
            .filter { rules.countedProviders.contains($0.provider) }
        let givenUntil = grants.map(\.until) + [Gift.accessUntil(chaining: gifts)].compactMap { $0 }
        let paidUntil = Entitlement.paidUntil(subscriptions, givenUntil: givenUntil, rules: rules)
        guard paidUntil != member.paidUntil else { return }
        member.paidUntil = paidUntil
        try await member.save(on: database)
        try await SiteCounters.increment(MemberSessions.generationKey, on: database)
    }
}
