import Foundation

/// Something the payment provider says happened, read from a Stripe event (the test mode
/// writes its events in the same shape, so both travel the same road).
///
/// Stripe's payloads follow the API version of the webhook endpoint; where a field moved between
/// versions (a subscription's period end, an invoice's subscription), both places are read.
struct BillingEvent: Sendable {
    let id: String
    let type: String
    /// When the provider created the event, in seconds: the version of the state it carries.
    let created: Int64
    let change: Change

    enum Change: Sendable {
        /// `paymentID`: a one-off payment's (a gift's) payment intent; `paid`: whether its money came in.
        case checkoutCompleted(sessionID: String, checkoutID: UUID?, subscriptionID: String?, paymentID: String?, paid: Bool)
        case subscriptionChanged(SubscriptionState)
        /// `renewal`: the invoice of a new period (not the first one, which the welcome covers).
        case invoicePaid(subscriptionID: String, periodEnd: Date?, renewal: Bool)
        case invoicePaymentFailed(subscriptionID: String)
        case chargeRefunded(customerID: String?, invoiceID: String?, paymentID: String?, fully: Bool)
        /// A type Masthead does not act on; recorded and acknowledged.
        case ignored
    }

    struct SubscriptionState: Sendable {
        let id: String
        let customerID: String
        let status: Subscription.Status
        let currentPeriodStart: Date?
        let currentPeriodEnd: Date
        let cancelAtPeriodEnd: Bool
        let endedAt: Date?
        /// Set by Masthead on the checkout and copied by the provider onto the subscription.
        let memberID: UUID?
        let planSlug: String?
        let amountMinor: Int
        let currency: String
        let interval: Plan.Interval
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static let memberMetadataKey = "masthead_member"
    static let planMetadataKey = "masthead_plan"

    init(id: String, type: String, created: Int64, change: Change) {
        self.id = id
        self.type = type
        self.created = created
        self.change = change
    }

    /// Reads an event from the JSON body of a webhook.
    init(json: Data) throws {
        guard let event = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { throw Malformed(description: "the body is not a JSON object") }
        guard let id = event["id"] as? String, !id.isEmpty, id.count <= 255,
              let type = event["type"] as? String,
              let created = (event["created"] as? NSNumber)?.int64Value,
              let object = (event["data"] as? [String: Any])?["object"] as? [String: Any]
        else { throw Malformed(description: "the event lacks an id, type, created time or data object") }
        self.init(id: id, type: type, created: created, change: try Self.change(type: type, object: object))
    }

    private static func change(type: String, object: [String: Any]) throws -> Change {
        switch type {
        // A delayed payment method (a bank debit) completes the session unpaid and pays later.
        case "checkout.session.completed", "checkout.session.async_payment_succeeded":
            guard let sessionID = object["id"] as? String else { throw Malformed(description: "the checkout session has no id") }
            return .checkoutCompleted(
                sessionID: sessionID,
                checkoutID: (object["client_reference_id"] as? String).flatMap(UUID.init(uuidString:)),
                subscriptionID: reference(object["subscription"]),
                paymentID: reference(object["payment_intent"]),
                paid: object["payment_status"] as? String == "paid"
            )
        case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
            return .subscriptionChanged(try subscription(object))
        case "invoice.paid", "invoice.payment_failed":
            guard let subscriptionID = invoiceSubscription(object) else { return .ignored }
            if type == "invoice.payment_failed" { return .invoicePaymentFailed(subscriptionID: subscriptionID) }
            let lines = (object["lines"] as? [String: Any])?["data"] as? [[String: Any]]
            let periodEnd = lines?.compactMap { date(($0["period"] as? [String: Any])?["end"]) }.max()
            let renewal = object["billing_reason"] as? String == "subscription_cycle" && ((object["amount_paid"] as? NSNumber)?.intValue ?? 0) > 0
            return .invoicePaid(subscriptionID: subscriptionID, periodEnd: periodEnd, renewal: renewal)
        case "charge.refunded":
            let customerID = reference(object["customer"]), paymentID = reference(object["payment_intent"])
            guard customerID != nil || paymentID != nil else { return .ignored }
            return .chargeRefunded(customerID: customerID, invoiceID: reference(object["invoice"]), paymentID: paymentID, fully: object["refunded"] as? Bool ?? false)
        default:
            return .ignored
        }
    }

    /// A subscription object, as in `customer.subscription.*` events and the API's answers.
    static func subscription(_ object: [String: Any]) throws -> SubscriptionState {
        let item = ((object["items"] as? [String: Any])?["data"] as? [[String: Any]])?.first
        let price = item?["price"] as? [String: Any]
        guard let id = object["id"] as? String,
              let customerID = reference(object["customer"]),
              let status = (object["status"] as? String).flatMap(Subscription.Status.init(rawValue:)),
              let periodEnd = date(object["current_period_end"]) ?? date(item?["current_period_end"])
        else { throw Malformed(description: "the subscription lacks an id, customer, known status or period end") }
        let metadata = object["metadata"] as? [String: Any]
        let interval = ((price?["recurring"] as? [String: Any])?["interval"] as? String).flatMap(Plan.Interval.init(rawValue:))
        return SubscriptionState(
            id: id, customerID: customerID, status: status,
            currentPeriodStart: date(object["current_period_start"]) ?? date(item?["current_period_start"]), currentPeriodEnd: periodEnd,
            cancelAtPeriodEnd: object["cancel_at_period_end"] as? Bool ?? false,
            endedAt: date(object["ended_at"]),
            memberID: (metadata?[memberMetadataKey] as? String).flatMap(UUID.init(uuidString:)),
            planSlug: metadata?[planMetadataKey] as? String,
            amountMinor: (price?["unit_amount"] as? NSNumber)?.intValue ?? 0,
            currency: price?["currency"] as? String ?? "",
            interval: interval ?? .year
        )
    }

    /// An id, whether the field holds it or an expanded object with it.
    private static func reference(_ value: Any?) -> String? {
        (value as? String) ?? ((value as? [String: Any])?["id"] as? String)
    }

    private static func date(_ value: Any?) -> Date? {
        (value as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) }
    }

    private static func invoiceSubscription(_ invoice: [String: Any]) -> String? {
        if let id = reference(invoice["subscription"]) { return id }
        let details = (invoice["parent"] as? [String: Any])?["subscription_details"] as? [String: Any]
        return reference(details?["subscription"])
    }
}
