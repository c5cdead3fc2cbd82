import Foundation
import Logging
import Vapor

/// The few calls Masthead makes to Stripe's REST API: form-encoded bodies with Stripe's bracket
/// notation, bearer authentication, and an `Idempotency-Key` on every create so that a retry
/// after a lost answer cannot create twice. Answers of 409, 429 and 5xx, and failed
/// connections, are retried with the same key.
struct StripeClient: Sendable {
    /// The API version whose object shapes `BillingEvent` reads.
    static let apiVersion = "2024-06-20"

    /// Asked for on each call, not at start-up: the application's client is made on first use,
    /// with the configuration of that moment.
    let client: @Sendable () -> any Client
    let secretKey: String
    let apiBase: String
    let logger: Logger
    var retryDelays: [Duration] = [.milliseconds(250), .seconds(1), .seconds(3)]

    func post(_ path: String, form: [(String, String)], idempotencyKey: String) async throws -> [String: Any] {
        try await send(.POST, path, body: Self.formEncode(form), idempotencyKey: idempotencyKey)
    }

    func get(_ path: String) async throws -> [String: Any] {
        try await send(.GET, path, body: nil, idempotencyKey: nil)
    }

    private func send(_ method: HTTPMethod, _ path: String, body: String?, idempotencyKey: String?) async throws -> [String: Any] {
        var headers = HTTPHeaders()
        headers.add(name: .authorization, value: "Bearer \(secretKey)")
        headers.add(name: "Stripe-Version", value: Self.apiVersion)
        if let idempotencyKey { headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if body != nil { headers.add(name: .contentType, value: "application/x-www-form-urlencoded") }
        for attempt in 0...retryDelays.count {
            let isLast = attempt == retryDelays.count
            do {
                let response = try await client().send(method, headers: headers, to: URI(string: apiBase + path)) { request in
                    if let body { request.body = ByteBuffer(string: body) }
                }
                if (200..<300).contains(response.status.code) { return try Self.object(response) }
                let retriable = [409, 429].contains(response.status.code) || response.status.code >= 500
                if !retriable || isLast { throw Self.failure(response) }
                logger.warning("stripe.retry", metadata: ["path": "\(path)", "status": "\(response.status.code)"])
            } catch let error as PaymentProviderError {
                throw error
            } catch {
                if isLast { throw PaymentProviderError(description: "Stripe could not be reached: \(error)") }
                logger.warning("stripe.retry", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            try await Task.sleep(for: retryDelays[attempt])
        }
        throw PaymentProviderError(description: "Stripe could not be reached")
    }

    private static func object(_ response: ClientResponse) throws -> [String: Any] {
        guard let buffer = response.body, let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw PaymentProviderError(description: "Stripe answered \(response.status.code) without a JSON object")
        }
        return object
    }

    private static func failure(_ response: ClientResponse) -> PaymentProviderError {
        let message = (try? object(response)).flatMap { ($0["error"] as? [String: Any])?["message"] as? String }
        return PaymentProviderError(description: "Stripe answered \(response.status.code): \(message ?? "no message")")
    }

    /// `application/x-www-form-urlencoded`, every reserved character escaped (brackets included,
    /// which Stripe decodes).
    static func formEncode(_ fields: [(String, String)]) -> String {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
        return fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }
}
