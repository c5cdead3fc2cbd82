import Foundation

/// The billing pages: per edition where a reader reads them, at the root where only the
/// payment provider or the test mode sends anyone. Built from the same segments the routes use.
struct BillingURL {
    static let join = "join"
    static let checkout = "checkout"
    static let done = "done"
    static let giftSegment = "gift"
    static let account = "account"
    static let manage = "billing"
    static let testMode = "billing"
    static let testCheckoutSegment = "test-checkout"
    static let testPortalSegment = "test-portal"
    static let webhooks = "webhooks"
    static let stripe = "stripe"

    let edition: Edition

    var plans: String { "\(edition.pathPrefix)/\(Self.join)" }
    var checkout: String { "\(plans)/\(Self.checkout)" }
    var manageBilling: String { "\(edition.pathPrefix)/\(Self.account)/\(Self.manage)" }

    func plans(returningTo path: String) -> String { "\(plans)?return=\(MemberURL.encode(path))" }

    func checkout(plan: String, currency: String, returningTo path: String) -> String {
        "\(checkout)?plan=\(MemberURL.encode(plan))&currency=\(MemberURL.encode(currency))&return=\(MemberURL.encode(path))"
    }

    func done(checkout id: UUID) -> String { "\(plans)/\(Self.done)?checkout=\(id.uuidString)" }

    var gift: String { "\(plans)/\(Self.giftSegment)" }
    func giftDone(checkout id: UUID) -> String { "\(gift)/\(Self.done)?checkout=\(id.uuidString)" }
    /// The link a gift's recipient is emailed; at the root, the gift knows its edition.
    static func redeem(token: String) -> String { "/\(giftSegment)/\(token)" }

    static func testCheckout(_ id: UUID) -> String { "/\(testMode)/\(testCheckoutSegment)/\(id.uuidString)" }
    static var testPortal: String { "/\(testMode)/\(testPortalSegment)" }
    static var stripeWebhook: String { "/\(webhooks)/\(stripe)" }
}
