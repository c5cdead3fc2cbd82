import Fluent
import Foundation

/// Articles going out to one or more lists, now or at a set time. Its deliveries are written in
/// the transaction that starts it (`NewsletterSends.start`), one per address.
final class NewsletterSend: Model, @unchecked Sendable {
    static let schema = "newsletter_sends"

    enum Status: String, Codable, Sendable {
        case scheduled, sending, sent, cancelled
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "subject") var subject: String
    /// A few words before the articles (a digest's introduction), plain text.
    @Field(key: "intro") var intro: String
    @Field(key: "article_ids") var articleIDsJSON: String
    @Field(key: "newsletter_ids") var newsletterIDsJSON: String
    @Enum(key: "status") var status: Status
    @Field(key: "scheduled_at") var scheduledAt: Date
    /// At most this many messages a second (a provider's limit); zero for as fast as it goes.
    @Field(key: "rate_per_second") var ratePerSecond: Int
    @Field(key: "created_by") var createdBy: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "queued_at") var queuedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    @Field(key: "recipients") var recipients: Int
    /// A breaking-news alert: its story goes out as a card (headline, dek, link) to every
    /// recipient alike, never with its text.
    @Field(key: "alert") var alert: Bool

    init() {}

    var articleIDs: [UUID] {
        get { (try? JSONDecoder().decode([UUID].self, from: Data(articleIDsJSON.utf8))) ?? [] }
        set { articleIDsJSON = String(decoding: (try? JSONEncoder().encode(newValue)) ?? Data("[]".utf8), as: UTF8.self) }
    }

    var newsletterIDs: [UUID] {
        get { (try? JSONDecoder().decode([UUID].self, from: Data(newsletterIDsJSON.utf8))) ?? [] }
        set { newsletterIDsJSON = String(decoding: (try? JSONEncoder().encode(newValue)) ?? Data("[]".utf8), as: UTF8.self) }
    }
}

/// One message of a send to one address, and what became of it.
final class NewsletterDelivery: Model, @unchecked Sendable {
    static let schema = "newsletter_deliveries"

    enum Status: String, Codable, Sendable, CaseIterable {
        /// Waiting for its (next) attempt.
        case queued
        case sent
        /// Refused for good by the mail server, or still failing after every retry.
        case failed
        /// The address does not exist (a permanent refusal of the recipient): it is suppressed.
        case bounced
        /// Not sent: the address unsubscribed or was suppressed after the send began.
        case skipped
        /// Handed to the mail server, whose answer never came (the connection dropped, or the
        /// worker was killed, after the message's end was sent): most likely delivered, and
        /// never sent again, since a reader would see a second copy.
        case unconfirmed
    }

    @ID(custom: "id", generatedBy: .database) var id: Int64?
    @Parent(key: "send_id") var send: NewsletterSend
    @Field(key: "newsletter_id") var newsletterID: UUID
    @Field(key: "subscription_id") var subscriptionID: UUID
    @Field(key: "email") var email: String
    @Enum(key: "status") var status: Status
    @Field(key: "attempts") var attempts: Int
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    @OptionalField(key: "claimed_until") var claimedUntil: Date?
    /// The connection that holds the claim, so only it renews the claim while it works.
    @OptionalField(key: "claimed_by") var claimedBy: String?
    /// The mail server's last answer, for the records.
    @OptionalField(key: "response") var response: String?
    @OptionalField(key: "sent_at") var sentAt: Date?
    /// Set while the message is being handed to the server: after a crash, it may have gone.
    @OptionalField(key: "handed_over_at") var handedOverAt: Date?

    init() {}
}
