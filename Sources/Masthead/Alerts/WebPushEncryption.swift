import Crypto
import Foundation

/// Message encryption for Web Push (RFC 8291): the payload is sealed for one browser's key
/// with the `aes128gcm` content coding (RFC 8188), so the push service that carries it reads
/// nothing. A fresh server key and salt for every message.
enum WebPushEncryption {
    /// What a browser's subscription gives for encryption: its P-256 public key (`p256dh`) and
    /// a 16-byte authentication secret (`auth`).
    struct Recipient: Sendable {
        let publicKey: P256.KeyAgreement.PublicKey
        let authSecret: Data

        init(publicKey: P256.KeyAgreement.PublicKey, authSecret: Data) {
            self.publicKey = publicKey
            self.authSecret = authSecret
        }

        /// From the base64url text a browser's `PushSubscription.toJSON()` gives; nil unless the
        /// key is a point on P-256 and the secret is 16 bytes.
        init?(p256dh: String, auth: String) {
            guard let keyBytes = Data(base64URLEncoded: p256dh), keyBytes.count == 65,
                  let key = try? P256.KeyAgreement.PublicKey(x963Representation: keyBytes),
                  let secret = Data(base64URLEncoded: auth), secret.count == 16
            else { return nil }
            self.init(publicKey: key, authSecret: secret)
        }
    }

    /// The record size the header announces: one record holds the whole message.
    static let recordSize: UInt32 = 4096
    /// The largest payload one record carries (RFC 8291 §4: push services need accept no more
    /// than 4096 octets of body; the header, the padding delimiter and the tag take the rest).
    static let largestPayload = Int(recordSize) - 16 - 1 - 86

    struct PayloadTooLarge: Error {}

    static func encrypt(
        _ payload: Data, for recipient: Recipient,
        serverKey: P256.KeyAgreement.PrivateKey = .init(), salt: Data = randomBytes(16)
    ) throws -> Data {
        guard payload.count <= largestPayload else { throw PayloadTooLarge() }
        let recipientKey = recipient.publicKey.x963Representation
        let serverPublicKey = serverKey.publicKey.x963Representation
        let shared = try serverKey.sharedSecretFromKeyAgreement(with: recipient.publicKey)
        // RFC 8291 §3.4: the input keying material mixes the shared secret, the browser's
        // authentication secret and both public keys.
        let keyInfo = Data("WebPush: info".utf8) + [0] + recipientKey + serverPublicKey
        let inputKey = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: recipient.authSecret, sharedInfo: keyInfo, outputByteCount: 32)
        // RFC 8188 §2.2 and §2.3: the content encryption key and the nonce of the first record.
        let contentKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: inputKey, salt: salt, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.deriveKey(inputKeyMaterial: inputKey, salt: salt, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)
            .withUnsafeBytes { Data($0) }
        // The last (and only) record ends with the delimiter 2, with no padding after it.
        let sealed = try AES.GCM.seal(payload + [2], using: contentKey, nonce: try AES.GCM.Nonce(data: nonce))
        var message = Data()
        message.reserveCapacity(86 + payload.count + 17)
        message += salt
        withUnsafeBytes(of: recordSize.bigEndian) { message += $0 }
        message.append(UInt8(serverPublicKey.count))
        message += serverPublicKey
        message += sealed.ciphertext
        message += sealed.tag
        return message
    }

    static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
