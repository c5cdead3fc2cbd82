import Fluent
import Foundation

/// One period of a plan that a member bought for someone else's address. Paid in a one-off
/// checkout; once paid, the recipient is emailed a link whose token only its hash here can
/// check; redeeming it adds the period to a member's access, from that day or from the end of
/// the gifts they redeemed before.
final class Gift: Model, @unchecked Sendable {
    static let schema = "gifts"

    enum Status: String, Codable, Sendable {
        case pending, paid, redeemed, refunded
    }

    @ID(key: .id) var id: UUID?
    @OptionalParent(key: "checkout_id") var checkout: Checkout?
    /// The edition it was bought in: its emails and pages are in that language.
    @Field(key: "edition") var edition: String
    @Field(key: "provider") var provider: String
    /// The giver as they were when they paid, so the record outlives their account.
    @Field(key: "giver_email") var giverEmail: String
    @Field(key: "giver_name") var giverName: String
    @Field(key: "recipient_email") var recipientEmail: String
    @Field(key: "recipient_name") var recipientName: String
    @Field(key: "message") var message: String
    @Field(key: "plan_name") var planName: String
    @Enum(key: "interval") var interval: Plan.Interval
    @Field(key: "amount_minor") var amountMinor: Int
    @Field(key: "currency") var currency: String
    @Enum(key: "status") var status: Status
    /// The provider's payment (Stripe's payment intent), by which a refund finds the gift.
    @OptionalField(key: "provider_payment_id") var providerPaymentID: String?
    @OptionalField(key: "redeem_token_hash") var redeemTokenHash: String?
    @OptionalField(key: "paid_at") var paidAt: Date?
    @OptionalParent(key: "redeemed_by") var redeemedBy: Member?
    @OptionalField(key: "redeemed_at") var redeemedAt: Date?
    /// The end of access it gave, as of its redemption (for the records: `accessUntil(chaining:)` decides).
    @OptionalField(key: "access_until") var accessUntil: Date?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    var money: Money { Money(minor: amountMinor, currency: currency) }

    /// How the recipient knows who gave it: a name when the giver has one, else their address.
    var giver: String { giverName.isEmpty ? giverEmail : giverName }

    /// Until when a member's redeemed gifts let them read: each gift's period runs from its
    /// redemption or from the end of the gifts redeemed before it, whichever is later. Derived
    /// afresh each time, so a refunded gift drops out of the chain and the later ones move up.
    static func accessUntil(chaining gifts: [Gift]) -> Date? {
        var end: Date?
        for gift in gifts.filter({ $0.status == .redeemed }).sorted(by: { ($0.redeemedAt ?? .distantPast) < ($1.redeemedAt ?? .distantPast) }) {
            guard let redeemedAt = gift.redeemedAt else { continue }
            end = TestModeEvents.period(after: max(redeemedAt, end ?? redeemedAt), gift.interval)
        }
        return end
    }
}
