import Crypto
import Foundation

/// Stripe's webhook signature scheme: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`,
/// each `v1` an HMAC-SHA256, keyed by the endpoint's signing secret, of `<t>.<raw body>`.
/// Several `v1` values appear while a secret is being rolled; one valid is enough. A timestamp
/// more than five minutes from now is refused, so a captured request cannot be replayed later.
struct StripeSignature: Sendable {
    static let header = "Stripe-Signature"
    static let tolerance: TimeInterval = 300

    let secret: String

    enum Refusal: Error, Equatable, CustomStringConvertible {
        case malformed, stale, mismatch

        var description: String {
            switch self {
            case .malformed: "the Stripe-Signature header is missing or malformed"
            case .stale: "the signature's timestamp is more than five minutes from now"
            case .mismatch: "no signature in the Stripe-Signature header matches the body"
            }
        }
    }

    func verify(header: String?, body: Data, now: Date) throws(Refusal) {
        guard let header, header.utf8.count < 4_096 else { throw .malformed }
        var timestamp: Int64?
        var signatures: [String] = []
        for element in header.split(separator: ",") {
            let pair = element.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, !signatures.isEmpty else { throw .malformed }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= Self.tolerance else { throw .stale }
        let expected = Self.sign(body: body, timestamp: timestamp, secret: secret)
        guard signatures.contains(where: { ConstantTime.equal($0, expected) }) else { throw .mismatch }
    }

    /// The `v1` signature Stripe sends for a body at a time.
    static func sign(body: Data, timestamp: Int64, secret: String) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }
}
