import Foundation
import Synchronization
import Vapor
@testable import Masthead

/// An HTTP server on 127.0.0.1 that answers the calls Masthead makes as Stripe's documented API
/// does (form-encoded requests, bearer key, idempotent creates), and sends webhooks signed exactly
/// as Stripe signs them. It can be told to fail the next requests with a 500.
final class LocalStripe: Sendable {
    static let secretKey = "sk_test_local"
    static let webhookSecret = "whsec_local_test_secret"

    struct Request: Sendable {
        let method: String
        let path: String
        let form: [String: String]
        let idempotencyKey: String?
    }

    private struct State {
        var requests: [Request] = []
        var failuresLeft = 0
        var answersByKey: [String: [String: String]] = [:]
        var subscriptions: [String: Data] = [:]
        var customerEmails: [String: String] = [:]
    }

    let app: Application
    let baseURL: String
    private let state = Mutex(State())

    private init(app: Application, baseURL: String) {
        self.app = app
        self.baseURL = baseURL
    }

    static func start() async throws -> LocalStripe {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        let box = Mutex<LocalStripe?>(nil)
        app.post("v1", "checkout", "sessions") { req in try box.withLock { $0! }.create(req, prefix: "cs_test") { id in ["id": id, "object": "checkout.session", "url": "https://checkout.stripe.test/c/pay/\(id)"] } }
        app.post("v1", "billing_portal", "sessions") { req in try box.withLock { $0! }.create(req, prefix: "bps_test") { id in ["id": id, "object": "billing_portal.session", "url": "https://billing.stripe.test/p/session/\(id)"] } }
        app.get("v1", "subscriptions", ":id") { req in try box.withLock { $0! }.subscription(req) }
        app.get("v1", "subscriptions") { req in try box.withLock { $0! }.subscriptions(req) }
        app.post("v1", "products") { req in try box.withLock { $0! }.create(req, prefix: "prod") { id in ["id": id, "object": "product"] } }
        app.post("v1", "prices") { req in
            let product = LocalStripe.decodeForm(req.body.string ?? "")["product"] ?? ""
            return try box.withLock { $0! }.create(req, prefix: "price") { id in ["id": id, "object": "price", "product": product] }
        }
        app.get("v1", "invoices", ":id") { req in
            try box.withLock { $0! }.json(.ok, ["id": req.parameters.get("id") ?? "", "object": "invoice", "subscription": "sub_\(req.parameters.get("id")?.dropFirst(3) ?? "")"])
        }
        app.get("v1", "prices", ":id") { req in
            try box.withLock { $0! }.json(.ok, ["id": req.parameters.get("id") ?? "", "object": "price", "product": "prod_existing"])
        }
        try await app.server.start()
        let port = app.http.server.shared.localAddress?.port ?? 0
        let stripe = LocalStripe(app: app, baseURL: "http://127.0.0.1:\(port)")
        box.withLock { $0 = stripe }
        return stripe
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    var requests: [Request] { state.withLock { $0.requests } }

    func failNext(_ count: Int) {
        state.withLock { $0.failuresLeft = count }
    }

    /// What `GET /v1/subscriptions/:id` answers from now on.
    func setSubscription(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object)
        state.withLock { $0.subscriptions[object["id"] as! String] = data }
    }

    /// The email address of a customer, shown when a subscription's customer is expanded.
    func setCustomer(_ id: String, email: String) {
        state.withLock { $0.customerEmails[id] = email }
    }

    fileprivate func create(_ req: Vapor.Request, prefix: String, answer: (String) -> [String: String]) throws -> Response {
        guard req.headers.first(name: .authorization) == "Bearer \(Self.secretKey)" else { return json(.unauthorized, ["error": ["message": "Invalid API Key provided"]]) }
        let form = Self.decodeForm(req.body.string ?? "")
        let key = req.headers.first(name: "Idempotency-Key")
        let (failing, earlier) = state.withLock { state -> (Bool, [String: String]?) in
            state.requests.append(Request(method: "POST", path: req.url.path, form: form, idempotencyKey: key))
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return (true, nil)
            }
            return (false, key.flatMap { state.answersByKey[$0] })
        }
        if failing { return json(.internalServerError, ["error": ["message": "An unknown error occurred", "type": "api_error"]]) }
        if let earlier { return json(.ok, earlier) }
        let body = answer("\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24))")
        state.withLock { if let key { $0.answersByKey[key] = body } }
        return json(.ok, body)
    }

    private func subscription(_ req: Vapor.Request) throws -> Response {
        let id = req.parameters.get("id") ?? ""
        state.withLock { $0.requests.append(Request(method: "GET", path: req.url.path, form: [:], idempotencyKey: nil)) }
        guard let data = state.withLock({ $0.subscriptions[id] }) else { return json(.notFound, ["error": ["message": "No such subscription: '\(id)'"]]) }
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    /// `GET /v1/subscriptions?customer=…&status=all`: Stripe's list object of that customer's subscriptions.
    private func subscriptions(_ req: Vapor.Request) throws -> Response {
        guard req.headers.first(name: .authorization) == "Bearer \(Self.secretKey)" else { return json(.unauthorized, ["error": ["message": "Invalid API Key provided"]]) }
        let customer = (try? req.query.get(String.self, at: "customer")) ?? ""
        let expandsCustomer = req.url.query?.removingPercentEncoding?.contains("expand[]=data.customer") == true
        let (failing, stored, email) = state.withLock { state -> (Bool, [Data], String?) in
            state.requests.append(Request(method: "GET", path: req.url.path, form: ["customer": customer], idempotencyKey: nil))
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return (true, [], nil)
            }
            return (false, Array(state.subscriptions.values), state.customerEmails[customer])
        }
        if failing { return json(.internalServerError, ["error": ["message": "An unknown error occurred", "type": "api_error"]]) }
        let objects = stored.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }.filter { $0["customer"] as? String == customer }.map { object in
            var object = object
            if expandsCustomer { object["customer"] = ["id": customer, "object": "customer", "email": email.map { $0 as Any } ?? NSNull()] as [String: Any] }
            return object
        }
        return json(.ok, ["object": "list", "url": "/v1/subscriptions", "has_more": false, "data": objects])
    }

    fileprivate func json(_ status: HTTPResponseStatus, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json")
        return Response(status: status, headers: headers, body: .init(data: data))
    }

    static func decodeForm(_ body: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        return form
    }
}

/// Stripe events as Stripe writes them (API version 2024-06-20), and their delivery to a site.
enum StripeEvents {
    static func event(_ type: String, _ object: [String: Any], created: Date = Date(), id: String = "evt_\(UUID().uuidString.prefix(12))") -> Data {
        try! JSONSerialization.data(withJSONObject: [
            "id": id, "object": "event", "api_version": "2024-06-20", "type": type,
            "created": Int(created.timeIntervalSince1970), "livemode": false, "pending_webhooks": 1,
            "data": ["object": object],
        ])
    }

    static func subscription(id: String, customer: String, memberID: UUID?, status: String, periodStart: Date? = nil, periodEnd: Date, cancelAtPeriodEnd: Bool = false, endedAt: Date? = nil, amount: Int = 10_000, interval: String = "year") -> [String: Any] {
        var object: [String: Any] = [
            "id": id, "object": "subscription", "customer": customer, "status": status,
            "current_period_start": Int((periodStart ?? Date()).timeIntervalSince1970),
            "current_period_end": Int(periodEnd.timeIntervalSince1970), "cancel_at_period_end": cancelAtPeriodEnd,
            "metadata": memberID.map { [BillingEvent.memberMetadataKey: $0.uuidString] } ?? [:],
            "items": ["object": "list", "data": [["id": "si_1", "price": ["id": "price_1", "unit_amount": amount, "currency": "usd", "recurring": ["interval": interval]]]]],
        ]
        object["ended_at"] = endedAt.map { Int($0.timeIntervalSince1970) } ?? NSNull()
        return object
    }

    /// The `Stripe-Signature` header Stripe would send for a body.
    static func signatureHeader(_ body: Data, at time: Date = Date(), secret: String = LocalStripe.webhookSecret) -> String {
        let timestamp = Int64(time.timeIntervalSince1970)
        return "t=\(timestamp),v1=\(StripeSignature.sign(body: body, timestamp: timestamp, secret: secret))"
    }

    static func deliver(_ body: Data, to site: TestSite, signature: String? = nil) async throws -> TestSite.Page {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json; charset=utf-8")
        headers.add(name: "Stripe-Signature", value: signature ?? signatureHeader(body))
        let response = try await site.app.client.post(URI(string: site.baseURL + "/webhooks/stripe"), headers: headers) { request in
            request.body = ByteBuffer(data: body)
        }
        let bytes = response.body ?? ByteBuffer()
        return TestSite.Page(status: response.status, headers: response.headers, body: String(buffer: bytes), bytes: bytes)
    }
}
