import Fluent
import Foundation

/// The emails a member gets about their membership, in the edition they joined from, put in
/// the outbox in the transaction of what they tell of: welcome (with what was paid), a receipt
/// for each renewal, a failed payment (with the way to fix the card), a cancellation,
/// complimentary access; and a gift's link to its recipient, with a receipt to its giver.
struct BillingMail: Sendable {
    enum Notice: String, Sendable {
        case welcome, receipt, paymentFailed = "payment_failed", cancelled, complimentary
    }

    let editions: EditionCatalog
    let settings: Settings

    func enqueue(_ notice: Notice, for memberID: UUID, subscription: Subscription?, until: Date? = nil, on database: any Database, now: Date) async throws {
        guard let member = try await Member.find(memberID, on: database) else { return }
        let checkout = try await Checkout.query(on: database).filter(\.$member.$id == memberID).sort(\.$createdAt, .descending).first()
        let edition = checkout.flatMap { editions[$0.edition] } ?? editions.defaultEdition
        let dates = EditionDates(edition: edition)
        let plan = try await subscription?.$plan.get(on: database)
        var values = ["site": settings.siteName, "plan": plan?.name(in: edition) ?? "", "email": member.email]
        if let subscription {
            values["price"] = Money(minor: subscription.amountMinor, currency: subscription.currency).formatted(locale: Locale(identifier: edition.locale))
                + " " + edition.text("plan_per_\(subscription.interval.rawValue)")
            values["date"] = dates.day(subscription.currentPeriodEnd)
        }
        if let until { values["date"] = dates.day(until.addingTimeInterval(-1)) }
        let key = "mail_billing_\(notice.rawValue)"
        let account = settings.publicURL + MemberURL(edition: edition).account
        let email = NoticeEmail(
            subject: edition.text("\(key)_subject", values),
            paragraphs: [edition.text("\(key)_text", values)],
            button: (edition.text("\(key)_button", values), account),
            footer: [settings.siteName, settings.publicURL + "/"],
            lang: edition.code, dir: edition.direction.rawValue
        )
        let message = email.message(from: settings.mailFrom, to: .init(email: member.email, name: member.name.isEmpty ? nil : member.name))
        try await Outbox(database: database, now: now).enqueue(message, purpose: "billing.\(notice.rawValue)")
    }

    /// A paid gift: its recipient gets the link that redeems it (with the giver's message), and
    /// the giver a receipt saying it is on its way.
    func enqueueGift(_ gift: Gift, token: String, on database: any Database, now: Date) async throws {
        let edition = editions[gift.edition] ?? editions.defaultEdition
        let values = [
            "site": settings.siteName, "giver": gift.giver, "recipient": gift.recipientEmail, "plan": gift.planName,
            "period": edition.text("gift_period_\(gift.interval.rawValue)"),
            "price": gift.money.formatted(locale: Locale(identifier: edition.locale)),
        ]
        let footer = [settings.siteName, settings.publicURL + "/"]
        let outbox = Outbox(database: database, now: now)
        let received = NoticeEmail(
            subject: edition.text("mail_gift_received_subject", values),
            paragraphs: [edition.text("mail_gift_received_text", values)]
                + (gift.message.isEmpty ? [] : [edition.text("mail_gift_received_message", values), gift.message]),
            button: (edition.text("mail_gift_received_button", values), settings.publicURL + BillingURL.redeem(token: token)),
            footer: footer, lang: edition.code, dir: edition.direction.rawValue
        )
        try await outbox.enqueue(
            received.message(from: settings.mailFrom, to: .init(email: gift.recipientEmail, name: gift.recipientName.isEmpty ? nil : gift.recipientName)),
            purpose: "billing.gift_received"
        )
        let sent = NoticeEmail(
            subject: edition.text("mail_gift_sent_subject", values),
            paragraphs: [edition.text("mail_gift_sent_text", values)],
            button: nil, footer: footer, lang: edition.code, dir: edition.direction.rawValue
        )
        try await outbox.enqueue(
            sent.message(from: settings.mailFrom, to: .init(email: gift.giverEmail, name: gift.giverName.isEmpty ? nil : gift.giverName)),
            purpose: "billing.gift_sent"
        )
    }
}
