import Fluent
import Foundation
import SQLKit

/// Who a gift is for and what the giver wrote, as the gift form gives it.
struct GiftRecipient: Sendable {
    let email: String
    let name: String
    let message: String

    static let messageLimit = 500
    /// Gift checkouts one member may start in a day.
    static let dailyLimit = 10

    /// Text as typed, trimmed, without control characters (line breaks kept in a message) nor
    /// the bidirectional overrides that could make the text read otherwise than it is written.
    /// Joiners and direction marks stay: Persian and Arabic need them.
    static func plain(_ text: String, keepingLines: Bool) -> String {
        let kept = text.unicodeScalars.filter { scalar in
            if scalar == "\n" { return keepingLines }
            return scalar.properties.generalCategory != .control && !(0x202A...0x202E).contains(scalar.value) && !(0x2066...0x2069).contains(scalar.value)
        }
        return String(String.UnicodeScalarView(kept)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension Billing {
    /// Records a gift and its checkout, and asks the provider where the giver pays for it:
    /// one period of the plan, paid once, not a subscription.
    func startGiftCheckout(giver: Member, price: PlanPrice, recipient: GiftRecipient, edition: Edition, on database: any Database, now: Date) async throws -> String {
        guard let provider else { throw SiteError.notFound }
        let plan = price.plan
        let urls = BillingURL(edition: edition)
        let checkout = Checkout(memberID: try giver.requireID(), priceID: try price.requireID(), returnPath: urls.plans, edition: edition.code, createdAt: now)
        try await database.writeTransaction { db in
            try await checkout.create(on: db)
            let gift = Gift()
            gift.$checkout.id = try checkout.requireID()
            gift.edition = edition.code
            gift.provider = provider.name
            gift.giverEmail = giver.email
            gift.giverName = giver.name
            gift.recipientEmail = recipient.email
            gift.recipientName = recipient.name
            gift.message = recipient.message
            gift.planName = plan.name(in: edition)
            gift.interval = plan.interval
            gift.amountMinor = price.amountMinor
            gift.currency = price.currency
            gift.status = .pending
            gift.createdAt = now
            try await gift.create(on: db)
        }
        let session = try await provider.checkoutURL(for: CheckoutRequest(
            checkoutID: try checkout.requireID(), memberID: try giver.requireID(), email: giver.email, customerID: nil,
            planSlug: plan.slug, planName: plan.name, price: price.money, interval: plan.interval, providerPriceID: nil,
            trialDays: 0, isGift: true,
            successURL: publicURL + urls.giftDone(checkout: try checkout.requireID()),
            cancelURL: publicURL + urls.gift
        ))
        checkout.providerSessionID = session.id
        try await checkout.save(on: database)
        return session.url
    }
}

/// Turning a gift link into paid access.
struct GiftRedemption: Sendable {
    let database: any Database
    let rules: EntitlementRules
    let now: Date

    enum Failure: Error {
        /// No paid gift has this token: a mistyped link, an unpaid or refunded gift.
        case unknown
        case alreadyRedeemed
    }

    /// The gift a link's token names, whatever its state.
    static func gift(token: String, on database: any Database) async throws -> Gift? {
        guard !token.isEmpty, token.count <= 100 else { return nil }
        return try await Gift.query(on: database).filter(\.$redeemTokenHash == SecretToken.digest(token)).first()
    }

    /// Gives the member the gift's period, from today or from the end of an earlier gift still
    /// running. Only one redemption of a gift can succeed, however many race.
    func redeem(token: String, for memberID: UUID) async throws -> Gift {
        try await database.writeTransaction { db in
            guard let gift = try await Self.gift(token: token, on: db), gift.status != .refunded, gift.status != .pending else { throw Failure.unknown }
            guard gift.status == .paid else { throw Failure.alreadyRedeemed }
            let earlier = try await Gift.query(on: db).filter(\.$redeemedBy.$id == memberID).filter(\.$status == .redeemed).all()
            gift.status = .redeemed
            gift.redeemedAt = now
            let accessUntil = Gift.accessUntil(chaining: earlier + [gift]) ?? now
            let sql = db as! any SQLDatabase
            let claimed = try await sql.raw("""
                UPDATE gifts SET status = \(bind: Gift.Status.redeemed.rawValue), redeemed_by = \(bind: memberID),
                redeemed_at = \(bind: now), access_until = \(bind: accessUntil)
                WHERE id = \(bind: try gift.requireID()) AND status = \(bind: Gift.Status.paid.rawValue) RETURNING id
                """).all()
            guard !claimed.isEmpty else { throw Failure.alreadyRedeemed }
            try await Entitlements(database: db, rules: rules).refresh(memberID: memberID)
            gift.accessUntil = accessUntil
            return gift
        }
    }
}

extension BillingLedger {
    /// A gift's checkout completed: once paid, the gift gets its redeem link and the recipient
    /// and the giver are told, all with the event's record.
    func giftPaid(_ gift: Gift, checkout: Checkout, paymentID: String?, paid: Bool, on db: any Database) async throws -> (Outcome, UUID?) {
        guard paid else { return (.ignored, nil) }
        guard gift.status == .pending else { return (.stale, nil) }
        checkout.completedAt = checkout.completedAt ?? now
        try await checkout.save(on: db)
        // Its refund came first (webhooks may arrive in any order): it is never delivered.
        if let paymentID, try await BillingEventRecord.query(on: db).filter(\.$refundedPaymentID == paymentID).first() != nil {
            gift.status = .refunded
            gift.providerPaymentID = paymentID
            try await gift.save(on: db)
            return (.applied, nil)
        }
        let token = SecretToken.generate()
        gift.status = .paid
        gift.paidAt = now
        gift.providerPaymentID = paymentID
        gift.redeemTokenHash = SecretToken.digest(token)
        try await gift.save(on: db)
        try await mail?.enqueueGift(gift, token: token, on: db, now: now)
        return (.applied, nil)
    }

    /// A gift's payment was given back: it can no longer be redeemed, and a redeemed one ends
    /// now. One conditional update, so that a redemption committing meanwhile is seen (its
    /// member is the one whose access is then recomputed).
    func giftRefunded(_ gift: Gift, on db: any Database) async throws -> (Outcome, UUID?) {
        let sql = db as! any SQLDatabase
        let rows = try await sql.raw("""
            UPDATE gifts SET status = \(bind: Gift.Status.refunded.rawValue)
            WHERE id = \(bind: try gift.requireID()) AND status <> \(bind: Gift.Status.refunded.rawValue) RETURNING redeemed_by
            """).all()
        guard let row = rows.first else { return (.stale, nil) }
        return (.applied, try row.decode(column: "redeemed_by", as: UUID?.self))
    }
}
