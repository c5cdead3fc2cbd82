import Crypto
import Foundation

/// Voluntary Application Server Identification for Web Push (RFC 8292): every message to a
/// push service carries a short-lived JWT signed with the site's P-256 key, and the key itself,
/// which browsers were given when they subscribed. The key is derived from the site's secret,
/// so every instance holds the same one and nothing more is stored; a new secret means a new
/// key, and browsers then subscribe again.
struct VAPID: Sendable {
    let key: P256.Signing.PrivateKey
    /// Whom the push service may contact about this site's messages: a `mailto:` or `https:` URI.
    let subject: String

    init(key: P256.Signing.PrivateKey, subject: String) {
        self.key = key
        self.subject = subject
    }

    init(secret: SymmetricKey, subject: String) {
        self.init(key: Self.derivedKey(from: secret), subject: subject)
    }

    /// The public key as browsers take it for `applicationServerKey`: the uncompressed point,
    /// base64url.
    var publicKey: String { key.publicKey.x963Representation.base64URLEncoded() }

    /// How long a token stays valid: RFC 8292 §2 allows at most 24 hours.
    static let lifetime: TimeInterval = 12 * 3600

    /// The `Authorization` header for a message to this push endpoint.
    func authorization(for endpoint: URL, at now: Date) throws -> String {
        // No space after the comma: RFC 8292 allows one, but some services' parsers do not.
        "vapid t=\(try token(audience: Self.audience(of: endpoint), at: now)),k=\(publicKey)"
    }

    func token(audience: String, at now: Date) throws -> String {
        struct Claims: Encodable {
            let aud: String
            let exp: Int
            let sub: String
        }
        let header = Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8).base64URLEncoded()
        let claims = try JSONEncoder().encode(Claims(aud: audience, exp: Int(now.timeIntervalSince1970 + Self.lifetime), sub: subject)).base64URLEncoded()
        let signingInput = header + "." + claims
        let signature = try key.signature(for: Data(signingInput.utf8))
        // JWS ES256 (RFC 7518 §3.4): the 64-byte R || S form, not DER.
        return signingInput + "." + signature.rawRepresentation.base64URLEncoded()
    }

    /// The push service's origin: what the token names as its audience.
    static func audience(of endpoint: URL) -> String {
        var origin = "\((endpoint.scheme ?? "https").lowercased())://\((endpoint.host(percentEncoded: true) ?? "").lowercased())"
        if let port = endpoint.port { origin += ":\(port)" }
        return origin
    }

    /// A P-256 private key from the site's secret: HKDF output read as a scalar, counting on to
    /// the next output in the vanishing case that one is not a valid key.
    static func derivedKey(from secret: SymmetricKey) -> P256.Signing.PrivateKey {
        for attempt in 0..<UInt8.max {
            let bytes = HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, info: Data("masthead web push vapid \(attempt)".utf8), outputByteCount: 32)
                .withUnsafeBytes { Data($0) }
            if let key = try? P256.Signing.PrivateKey(rawRepresentation: bytes) { return key }
        }
        preconditionFailure("255 HKDF outputs in a row outside P-256's scalar range")
    }
}
