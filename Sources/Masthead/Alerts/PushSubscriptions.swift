import Fluent
import Foundation

/// Browsers subscribing to breaking-news alerts and leaving them. A subscription is the
/// capability to receive: whoever holds its endpoint may remove it, and nobody can read one.
struct PushSubscriptions: Sendable {
    let database: any Database
    let services: PushServices
    let now: Date

    /// Why a subscription was refused, in words for the reader's script to show.
    struct Problem: Error {
        let description: String
        let tooMany: Bool
    }

    /// New subscriptions one client address may make in an hour: a household's browsers, not
    /// a script filling the table.
    static let perClientHourly = 20

    func subscribe(endpoint: String, p256dh: String, auth: String, edition: String, memberID: UUID?, clientAddress: String) async throws {
        guard services.allows(endpoint) else {
            throw Problem(description: "this browser's push service is not one this site sends to", tooMany: false)
        }
        guard WebPushEncryption.Recipient(p256dh: p256dh, auth: auth) != nil else {
            throw Problem(description: "the subscription's keys are not a P-256 key and a 16-byte secret", tooMany: false)
        }
        let recent = try await PushSubscription.query(on: database).filter(\.$clientAddress == clientAddress)
            .filter(\.$createdAt > now.addingTimeInterval(-3600)).count()
        guard recent < Self.perClientHourly else {
            throw Problem(description: "too many subscriptions from this address: try again in an hour", tooMany: true)
        }
        do {
            try await save(endpoint: endpoint, p256dh: p256dh, auth: auth, edition: edition, memberID: memberID, clientAddress: clientAddress)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // The same browser asking twice at once: the other request saved it.
            return
        }
    }

    private func save(endpoint: String, p256dh: String, auth: String, edition: String, memberID: UUID?, clientAddress: String) async throws {
        try await database.writeTransaction { db in
            let subscription = try await PushSubscription.query(on: db).filter(\.$endpoint == endpoint).first() ?? PushSubscription()
            subscription.endpoint = endpoint
            subscription.p256dh = p256dh
            subscription.auth = auth
            subscription.edition = edition
            subscription.memberID = memberID ?? (subscription.id == nil ? nil : subscription.memberID)
            if subscription.id == nil {
                subscription.clientAddress = clientAddress
                subscription.createdAt = now
            }
            try await subscription.save(on: db)
        }
    }

    func unsubscribe(endpoint: String) async throws {
        try await PushSubscription.query(on: database).filter(\.$endpoint == endpoint).delete()
    }

    /// How many browsers take the edition's alerts.
    func count(edition: String) async throws -> Int {
        try await PushSubscription.query(on: database).filter(\.$edition == edition).count()
    }
}
