import Foundation
import Vapor

/// `POST /webhooks/stripe`: Stripe's word on what happened, believed only when signed with the
/// endpoint's secret. A bad signature or body is a 400 that changes nothing; an event applied
/// or already applied is a 200; a database failure is a 500, so Stripe delivers it again.
struct WebhookController: Sendable {
    /// Stripe's events are a few kilobytes; an invoice with many lines can be far more than a
    /// form, and a refused event would never be applied.
    static let bodyBytes = 1 << 20

    let billing: Billing
    let signature: StripeSignature
    let metrics: ServerMetrics

    func register(on routes: any RoutesBuilder) {
        routes.post(.constant(BillingURL.webhooks), .constant(BillingURL.stripe)) { try await receive($0) }
    }

    func receive(_ req: Request) async throws -> Response {
        let body = req.body.data.map { Data(buffer: $0) } ?? Data()
        let now = Date()
        do {
            try signature.verify(header: req.headers.first(name: StripeSignature.header), body: body, now: now)
        } catch {
            req.logger.warning("billing.webhook_refused", metadata: ["reason": "\(error)", "client": "\(req.clientAddress)"])
            metrics.webhook(outcome: "refused")
            return answer(.badRequest, ["error": error.description])
        }
        let event: BillingEvent
        do {
            event = try BillingEvent(json: body)
        } catch let error as BillingEvent.Malformed {
            req.logger.warning("billing.webhook_malformed", metadata: ["reason": "\(error)"])
            metrics.webhook(outcome: "malformed")
            return answer(.badRequest, ["error": error.description])
        }
        let outcome: BillingLedger.Outcome
        do {
            outcome = try await billing.ledger(on: req.db, now: now, logger: req.logger).apply(event)
        } catch {
            metrics.webhook(outcome: "failed")
            throw error
        }
        metrics.webhook(outcome: outcome.rawValue)
        return answer(.ok, ["received": event.id, "outcome": outcome.rawValue])
    }

    private func answer(_ status: HTTPResponseStatus, _ fields: [String: String]) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/json")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        let body = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: headers, body: .init(data: body))
    }
}
