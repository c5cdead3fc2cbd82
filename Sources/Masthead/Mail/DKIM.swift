import Crypto
import Foundation
import _CryptoExtras

/// Signs outgoing mail with DKIM (RFC 6376), so receivers can tell it comes from the
/// publication's domain and was not changed on the way: rsa-sha256, or ed25519-sha256 (RFC 8463).
/// Header and body are both canonicalized "relaxed", which survives the re-folding and
/// whitespace changes relays make.
public struct DKIMSigner: Sendable {
    /// Signed in this order, each when present. RFC 8058 §4: receivers honour one-click
    /// unsubscription only when the signature covers List-Unsubscribe and List-Unsubscribe-Post.
    static let signedHeaders = [
        "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
        "reply-to", "list-id", "list-unsubscribe", "list-unsubscribe-post",
    ]

    /// Named once more in h= than they occur (RFC 6376 §8.15, "over-signing"): a header of these
    /// added to a signed message later (a second Subject, a Reply-To, a Cc) breaks the signature.
    static let oversignedHeaders = ["from", "to", "subject", "reply-to", "cc", "list-unsubscribe", "list-unsubscribe-post"]

    /// An Ed25519 key in PKCS#8 (RFC 8410 §7) is this fixed DER prefix followed by the 32-byte seed.
    private static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    public let domain: String
    public let selector: String
    private let key: Key

    /// A signer for `d=domain`, whose public key is published at `selector._domainkey.domain`.
    /// The key is an RSA key (PKCS#1 or PKCS#8 PEM) or an Ed25519 key (PKCS#8 PEM, as
    /// `openssl genpkey -algorithm ed25519` writes it); which one decides the algorithm.
    public init(domain: String, selector: String, privateKeyPEM: String) throws {
        for (role, name) in [("domain", domain), ("selector", selector)] where !Self.isDomainName(name) {
            throw DKIMError("the DKIM \(role) \(name.debugDescription) is not a domain name (ASCII letters, digits and hyphens in dot-separated labels)")
        }
        self.domain = domain
        self.selector = selector
        key = try Key(pem: privateKeyPEM)
    }

    /// The message, as `EmailMessage.rendered()` writes it, with a DKIM-Signature field put first.
    public func sign(_ message: String, at time: Date = Date()) -> String {
        let (fields, body) = RelaxedCanonicalization.canonicalize(message)
        // A field that appears twice is signed in its last instance, the one verifiers take first (RFC 6376 §5.4.2).
        let signed: [(name: String, field: [UInt8])] = Self.signedHeaders.compactMap { name in
            fields.last { $0.starts(with: "\(name):".utf8) }.map { (name: name, field: $0) }
        }
        var header = FoldedHeader(name: "DKIM-Signature:")
        let tags = [
            "v=1;", "a=\(key.algorithm);", "c=relaxed/relaxed;", "d=\(domain);", "s=\(selector);",
            "t=\(Int(time.timeIntervalSince1970));",
        ]
        for tag in tags {
            header.append(tag, spaced: true)
        }
        let names = signed.map(\.name) + Self.oversignedHeaders
        for (index, name) in names.enumerated() {
            let isFirst = index == 0, isLast = index == names.count - 1
            header.append((isFirst ? "h=" : "") + name + (isLast ? ";" : ":"), spaced: isFirst)
        }
        header.append("bh=\(Data(SHA256.hash(data: body)).base64EncodedString());", spaced: true)
        header.append("b=", spaced: true)
        // The signature covers the signed fields, then this field with b= still empty and no
        // final CRLF (RFC 6376 §3.7). b= comes last, so what verifiers blank is exactly what follows.
        var data = signed.flatMap { $0.field + Array("\r\n".utf8) }
        data += RelaxedCanonicalization.header(Array(header.text.utf8))
        for line in MIME.base64Lines(key.signature(for: data)) {
            header.append(line, spaced: false)
        }
        return header.text + "\r\n" + message
    }

    /// A new private key in PEM, and the value of the TXT record to publish at
    /// `selector._domainkey.domain` (RFC 6376 §3.6.1, RFC 8463 §4.2). RSA keys are 2048 bits; their
    /// record is longer than 255 characters, which DNS providers split into several strings.
    public static func generateKeyPair(ed25519: Bool = false) throws -> (privateKeyPEM: String, dnsRecordValue: String) {
        if ed25519 {
            let key = Curve25519.Signing.PrivateKey()
            let der = Data(ed25519PKCS8Prefix) + key.rawRepresentation
            return (
                "-----BEGIN PRIVATE KEY-----\n\(der.base64EncodedString())\n-----END PRIVATE KEY-----\n",
                "v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())"
            )
        }
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        return (key.pkcs8PEMRepresentation, "v=DKIM1; k=rsa; p=\(key.publicKey.derRepresentation.base64EncodedString())")
    }

    /// d= and s= are DNS names (RFC 6376 §3.5); an internationalised one goes in its A-label form.
    private static func isDomainName(_ text: String) -> Bool {
        text.utf8.count <= 253 && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    private enum Key: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)

        init(pem: String) throws {
            guard let document = Self.pemDocument(pem) else {
                throw DKIMError("the DKIM private key is not a readable PEM block (-----BEGIN PRIVATE KEY-----)")
            }
            switch document.label {
            case "PRIVATE KEY" where document.der.count == 48 && document.der.starts(with: DKIMSigner.ed25519PKCS8Prefix):
                self = try .ed25519(Curve25519.Signing.PrivateKey(rawRepresentation: document.der.suffix(32)))
            case "PRIVATE KEY", "RSA PRIVATE KEY":
                do {
                    self = try .rsa(_RSA.Signing.PrivateKey(unsafePEMRepresentation: pem))
                } catch CryptoKitError.incorrectParameterSize {
                    // RFC 8301 §3.2: verifiers refuse keys under 1024 bits.
                    throw DKIMError("the DKIM RSA key is shorter than 1024 bits, which receivers refuse; make a 2048-bit one")
                } catch {
                    throw DKIMError("the DKIM private key is neither an RSA key nor an Ed25519 key in the PKCS#8 form openssl genpkey writes")
                }
            case "ENCRYPTED PRIVATE KEY":
                throw DKIMError("the DKIM private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
            default:
                throw DKIMError("the DKIM private key PEM holds a \(document.label.debugDescription), not a private key")
            }
        }

        var algorithm: String {
            switch self {
            case .rsa: "rsa-sha256"
            case .ed25519: "ed25519-sha256"
            }
        }

        /// Neither can fail once the key is read: BoringSSL checks an RSA key's consistency when parsing it.
        func signature(for data: [UInt8]) -> Data {
            switch self {
            case .rsa(let key):
                // rsa-sha256 is RSASSA-PKCS1-v1_5 over SHA-256 of the data (RFC 6376 §3.3.1).
                return try! key.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation
            case .ed25519(let key):
                // RFC 8463 §3: PureEdDSA over the SHA-256 hash, not over the data itself.
                return try! key.signature(for: Data(SHA256.hash(data: data)))
            }
        }

        /// The label and DER bytes of the first PEM block in the text (RFC 7468).
        private static func pemDocument(_ text: String) -> (label: String, der: Data)? {
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) else { return nil }
            let label = String(lines[begin].dropFirst("-----BEGIN ".count).dropLast("-----".count))
            guard let end = lines[begin...].firstIndex(of: "-----END \(label)-----"),
                  let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else { return nil }
            return (label, der)
        }
    }
}

/// Why a DKIM key or identity cannot be used, in one line for whoever configured it.
public struct DKIMError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Relaxed canonicalization (RFC 6376 §3.4.2 for header fields, §3.4.4 for the body), on the
/// message's bytes: the signature is over bytes, and Swift's characters would merge CR and LF.
enum RelaxedCanonicalization {
    private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    /// Each header field in relaxed form (without CRLF), in order, and the body in relaxed form.
    static func canonicalize(_ message: String) -> (fields: [[UInt8]], body: [UInt8]) {
        let messageLines = lines(Array(message.utf8)[...])
        let blank = messageLines.firstIndex(where: \.isEmpty) ?? messageLines.endIndex
        var fields: [[UInt8]] = []
        for line in messageLines[..<blank] {
            // A line starting with whitespace continues the field above it (RFC 5322 §2.2.3).
            if let first = line.first, first == space || first == tab, !fields.isEmpty {
                fields[fields.count - 1] += line
            } else {
                fields.append(Array(line))
            }
        }
        // Trailing empty lines are ignored, and a CRLF ends every other line, the last one
        // included; a body with no content stays empty rather than becoming one CRLF.
        var body = messageLines[blank...].dropFirst().map(compressed)
        while body.last?.isEmpty == true {
            body.removeLast()
        }
        return (fields.map(header), body.flatMap { $0 + [cr, lf] })
    }

    /// `name:value`, the name lowercased, the field unfolded, each run of whitespace one space,
    /// and none around the colon or at the end.
    static func header(_ field: [UInt8]) -> [UInt8] {
        let unfolded = field.filter { $0 != cr && $0 != lf }
        let colon = unfolded.firstIndex(of: UInt8(ascii: ":")) ?? unfolded.endIndex
        let name = compressed(unfolded[..<colon]).map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        var value = compressed(unfolded[colon...].dropFirst())
        if value.first == space {
            value.removeFirst()
        }
        return name + [UInt8(ascii: ":")] + value
    }

    /// The bytes between CRLFs; what follows the last CRLF is a line too, empty if nothing does.
    private static func lines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex, index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == cr, index + 1 < bytes.endIndex, bytes[index + 1] == lf {
                result.append(bytes[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        result.append(bytes[start...])
        return result
    }

    /// Each run of spaces and tabs made one space, and any at the end dropped.
    private static func compressed(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        var pendingSpace = false
        for byte in bytes {
            if byte == space || byte == tab {
                pendingSpace = true
            } else {
                if pendingSpace { result.append(space) }
                pendingSpace = false
                result.append(byte)
            }
        }
        return result
    }
}

/// A header field written word by word and folded (RFC 5322 §2.2.3) before any word that would
/// take its line past 78 characters. A spaced word follows a space; folding puts whitespace
/// before the other words too, so they go only where the field's syntax allows it.
private struct FoldedHeader {
    private(set) var text: String
    private var lineLength: Int

    init(name: String) {
        text = name
        lineLength = name.utf8.count
    }

    mutating func append(_ word: String, spaced: Bool) {
        if lineLength + (spaced ? 1 : 0) + word.utf8.count > 78 {
            text += "\r\n\t"
            lineLength = 1
        } else if spaced {
            text += " "
            lineLength += 1
        }
        text += word
        lineLength += word.utf8.count
    }
}
