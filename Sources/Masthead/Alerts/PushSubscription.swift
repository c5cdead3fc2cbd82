import Fluent
import Foundation

/// A browser that asked for one edition's breaking-news alerts by Web Push: where its push
/// service takes messages for it, and the keys they are encrypted for. Signed-in readers' are
/// tied to their account, so that deleting the account removes them.
final class PushSubscription: Model, @unchecked Sendable {
    static let schema = "push_subscriptions"

    @ID(key: .id) var id: UUID?
    @Field(key: "endpoint") var endpoint: String
    @Field(key: "p256dh") var p256dh: String
    @Field(key: "auth") var auth: String
    @Field(key: "edition") var edition: String
    @OptionalField(key: "member_id") var memberID: UUID?
    /// Where the subscription came from, for the rate limit on new ones.
    @Field(key: "client_address") var clientAddress: String
    @Field(key: "created_at") var createdAt: Date

    init() {}
}

/// One alert to one browser, and what became of it. Written with the banner, in its
/// transaction, so an alert is sent to every subscription or to none.
final class PushDelivery: Model, @unchecked Sendable {
    static let schema = "push_deliveries"

    enum Status: String, Codable, Sendable {
        case queued, sent, failed
        /// Not sent: its banner was taken down first.
        case cancelled
        /// The push service said the subscription is gone (404 or 410): it was deleted.
        case gone
    }

    @ID(custom: "id", generatedBy: .database) var id: Int64?
    @Field(key: "subscription_id") var subscriptionID: UUID
    @Field(key: "banner_id") var bannerID: UUID
    @Enum(key: "status") var status: Status
    @Field(key: "attempts") var attempts: Int
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    @OptionalField(key: "claimed_until") var claimedUntil: Date?
    @OptionalField(key: "response") var response: String?

    init() {}
}
