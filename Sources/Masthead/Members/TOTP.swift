import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second steps,
/// six digits, the form every authenticator app reads from an `otpauth://` URI.
struct TOTP: Sendable {
    static let step: TimeInterval = 30
    static let digits = 6

    let secret: Data

    init(secret: Data) {
        self.secret = secret
    }

    init?(base32 text: String) {
        guard let data = Base32.decode(text), data.count >= 10 else { return nil }
        secret = data
    }

    static func generate() -> TOTP {
        TOTP(secret: Data((0..<20).map { _ in UInt8.random(in: .min ... .max) }))
    }

    var base32: String { Base32.encode(secret) }

    func uri(account: String, issuer: String) -> String {
        let label = "\(issuer):\(account)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? account
        let issuerQuery = issuer.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return "otpauth://totp/\(label)?secret=\(base32)&issuer=\(issuerQuery)&algorithm=SHA1&digits=\(Self.digits)&period=\(Int(Self.step))"
    }

    static func counter(at date: Date) -> Int64 {
        Int64(floor(date.timeIntervalSince1970 / step))
    }

    func code(counter: Int64, digits: Int = TOTP.digits) -> String {
        var bigEndian = UInt64(bitPattern: counter).bigEndian
        let message = withUnsafeBytes(of: &bigEndian) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let modulus = (0..<digits).reduce(UInt32(1)) { value, _ in value * 10 }
        let number = String(binary % modulus)
        return String(repeating: "0", count: digits - number.count) + number
    }

    /// The counter the code matches, allowing one step of clock drift either way, or nil.
    func matchingCounter(for submitted: String, at date: Date) -> Int64? {
        let code = submitted.filter(\.isNumber)
        guard code.count == Self.digits else { return nil }
        let now = Self.counter(at: date)
        return (now - 1 ... now + 1).first { self.code(counter: $0) == code }
    }
}

/// RFC 4648 base32, as authenticator apps expect secrets (upper case, no padding).
enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func encode(_ data: Data) -> String {
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in data {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(Character(UnicodeScalar(alphabet[(buffer >> (bits - 5)) & 31])))
                bits -= 5
            }
        }
        if bits > 0 { output.append(Character(UnicodeScalar(alphabet[(buffer << (5 - bits)) & 31]))) }
        return output
    }

    static func decode(_ text: String) -> Data? {
        var output = Data()
        var buffer = 0
        var bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: "=") && character != UInt8(ascii: " ") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = ((buffer << 5) | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return output
    }
}
