import Crypto
import Foundation

/// Random bearer tokens and their stored digests.
enum SecretToken {
    /// 32 random bytes from the system's CSPRNG, base64url without padding (RFC 4648 §5).
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64URLEncoded()
    }

    /// Lowercase hex SHA-256. Asked on every signed-in reader's request, so written out by
    /// hand: formatting each byte with `String(format:)` cost more than the rest of the request.
    static func digest(_ token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(token.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

extension Data {
    /// RFC 4648 §5, without padding. Mapped byte by byte: every newsletter copy signs its
    /// unsubscribe link, and three Foundation replacements were most of what that cost.
    func base64URLEncoded() -> String {
        let encoded = base64EncodedData().compactMap { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "+"): UInt8(ascii: "-")
            case UInt8(ascii: "/"): UInt8(ascii: "_")
            case UInt8(ascii: "="): nil
            default: byte
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// Reads RFC 4648 §5 text, padded or not; nil for anything else.
    init?(base64URLEncoded text: String) {
        guard text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "=") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            return nil
        }
        var standard = text.replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        self.init(base64Encoded: standard)
    }
}

/// Email addresses as Masthead keys accounts by them: trimmed and lower-cased, so that
/// `Reader@Example.com` and `reader@example.com` are one member.
enum EmailAddress {
    static func normalized(_ text: String) -> String? {
        let email = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64,
              parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              email.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && !"<>()[]\\,;:\"".unicodeScalars.contains($0) })
        else { return nil }
        return email
    }
}
