import Fluent
import Foundation

/// A list readers subscribe to (the daily briefing, a weekly digest), in one edition's language,
/// sent from its own name and address.
final class Newsletter: Model, @unchecked Sendable {
    static let schema = "newsletters"

    @ID(key: .id) var id: UUID?
    @Field(key: "slug") var slug: String
    @Field(key: "name") var name: String
    @Field(key: "description") var description: String
    @Field(key: "sender_name") var senderName: String
    @Field(key: "sender_email") var senderEmail: String
    @OptionalField(key: "reply_to") var replyTo: String?
    /// The edition whose language and direction its emails are written in.
    @Field(key: "edition") var edition: String
    /// Whether a reader who becomes a member is subscribed to it (and may unsubscribe).
    @Field(key: "for_new_members") var forNewMembers: Bool
    /// Whether it carries the edition's breaking-news alerts (a card for each flagged story).
    @Field(key: "breaking_alerts") var breakingAlerts: Bool
    /// An inactive list keeps its subscribers but is neither offered nor sent.
    @Field(key: "active") var active: Bool
    @Field(key: "position") var position: Int
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(slug: String, name: String, description: String, senderName: String, senderEmail: String, edition: String, forNewMembers: Bool, breakingAlerts: Bool = false, position: Int, createdAt: Date) {
        self.slug = slug
        self.name = name
        self.description = description
        self.senderName = senderName
        self.senderEmail = senderEmail
        self.edition = edition
        self.forNewMembers = forNewMembers
        self.breakingAlerts = breakingAlerts
        self.active = true
        self.position = position
        self.createdAt = createdAt
    }
}

/// One address on one list. Pending until the address confirms (double opt-in), except when
/// the address is already proven: a signed-in member, or an import of confirmed subscribers.
final class NewsletterSubscription: Model, @unchecked Sendable {
    static let schema = "newsletter_subscriptions"

    enum Status: String, Codable, Sendable {
        case pending, active, unsubscribed
    }

    /// How the address came to the list, for the records.
    enum Source: String, Codable, Sendable {
        case form, account, signup, import_ = "import", staff
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "newsletter_id") var newsletter: Newsletter
    @Field(key: "email") var email: String
    @Field(key: "name") var name: String
    @OptionalParent(key: "member_id") var member: Member?
    @Enum(key: "status") var status: Status
    @Enum(key: "source") var source: Source
    @OptionalField(key: "confirm_token_hash") var confirmTokenHash: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "confirmed_at") var confirmedAt: Date?
    @OptionalField(key: "unsubscribed_at") var unsubscribedAt: Date?

    init() {}

    init(newsletterID: UUID, email: String, name: String, memberID: UUID?, status: Status, source: Source, createdAt: Date) {
        self.$newsletter.id = newsletterID
        self.email = email
        self.name = name
        self.$member.id = memberID
        self.status = status
        self.source = source
        self.createdAt = createdAt
        if status == .active { self.confirmedAt = createdAt }
    }
}

/// A confirmation email the public form asked for: what its rate limits count.
final class NewsletterRequest: Model, @unchecked Sendable {
    static let schema = "newsletter_requests"

    @ID(key: .id) var id: UUID?
    @Field(key: "email") var email: String
    @Field(key: "client_address") var clientAddress: String
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(email: String, clientAddress: String, createdAt: Date) {
        self.email = email
        self.clientAddress = clientAddress
        self.createdAt = createdAt
    }
}

/// An address no newsletter goes to any more: it bounced for good, or staff said so.
final class MailSuppression: Model, @unchecked Sendable {
    static let schema = "mail_suppressions"

    enum Reason: String, Codable, Sendable {
        case hardBounce = "hard_bounce", manual, complaint
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "email") var email: String
    @Enum(key: "reason") var reason: Reason
    @Field(key: "detail") var detail: String
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(email: String, reason: Reason, detail: String, createdAt: Date) {
        self.email = email
        self.reason = reason
        self.detail = detail
        self.createdAt = createdAt
    }
}
