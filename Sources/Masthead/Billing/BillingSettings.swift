import Foundation

/// How readers pay: through Stripe when its keys are set; else in test mode, Masthead's own
/// checkout page, plainly marked, where no money moves, when the operator asks for it (the demo
/// does); else not at all. Test mode is never the silent default: on a live site it would give
/// paid access to anyone who pressed "pay".
public struct BillingSettings: Sendable {
    public struct Stripe: Sendable {
        public var secretKey: String
        public var webhookSecret: String
        /// Stripe's API, or a local endpoint that speaks it (for tests).
        public var apiBase: String

        public init(secretKey: String, webhookSecret: String, apiBase: String = "https://api.stripe.com") {
            self.secretKey = secretKey
            self.webhookSecret = webhookSecret
            self.apiBase = apiBase
        }
    }

    public var stripe: Stripe?
    /// Whether test mode is wanted when Stripe is not configured.
    public var testMode: Bool
    /// Days a member whose card failed keeps reading while the provider retries it.
    public var graceDays: Int
    /// The currency the plans page shows first (ISO 4217, lower case), when a plan has a price in it.
    public var currency: String

    public init(stripe: Stripe? = nil, testMode: Bool = false, graceDays: Int = 7, currency: String = "usd") {
        self.stripe = stripe
        self.testMode = testMode
        self.graceDays = graceDays
        self.currency = currency
    }

    /// Whether readers can pay at all, for real or in test mode.
    public var takesPayments: Bool { stripe != nil || testMode }

    /// Whether no money moves: Masthead's test mode, or a Stripe test key. Readers are told.
    public var isTestMode: Bool { stripe.map { $0.secretKey.hasPrefix("sk_test_") } ?? testMode }

    static func fromEnvironment(_ environment: [String: String], testMode: Bool, parseGraceDays: (String) throws -> Int) throws -> BillingSettings {
        let key = environment["MASTHEAD_STRIPE_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let webhookSecret = environment["MASTHEAD_STRIPE_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        var stripe: Stripe?
        switch (key, webhookSecret) {
        case (nil, nil):
            stripe = nil
        case (let key?, let webhookSecret?):
            var apiBase = environment["MASTHEAD_STRIPE_API_BASE"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.stripe.com"
            while apiBase.hasSuffix("/") { apiBase.removeLast() }
            // The secret key travels with every call: in the clear only to this machine.
            guard let url = URL(string: apiBase), url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "")) else {
                throw SettingsError("MASTHEAD_STRIPE_API_BASE must be an https URL (http only to this machine), got '\(apiBase)'")
            }
            stripe = Stripe(secretKey: key, webhookSecret: webhookSecret, apiBase: apiBase)
        default:
            throw SettingsError("MASTHEAD_STRIPE_SECRET_KEY and MASTHEAD_STRIPE_WEBHOOK_SECRET are set together or not at all: without the webhook secret no payment could be believed")
        }
        let currency = (environment["MASTHEAD_BILLING_CURRENCY"] ?? "usd").lowercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw SettingsError("MASTHEAD_BILLING_CURRENCY must be a three-letter ISO 4217 code such as USD or EUR, got '\(currency)'")
        }
        return BillingSettings(
            stripe: stripe, testMode: testMode,
            graceDays: try environment["MASTHEAD_BILLING_GRACE_DAYS"].map(parseGraceDays) ?? 7, currency: currency
        )
    }
}
