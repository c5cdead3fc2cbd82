import Foundation
import Testing
@testable import Masthead

/// DKIM signatures, checked by an independent verifier (Python's dkimpy) rather than by
/// Masthead's own reading of RFC 6376.
@Suite("DKIM signatures")
struct DKIMTests {
    enum KeyType: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case rsa, ed25519
        var testDescription: String { rawValue }
    }

    /// A change made to the message after it was signed, by a relay or by anyone on the way.
    enum Alteration: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case body, subject
        var testDescription: String { rawValue }

        func apply(to signed: String) -> String {
            switch self {
            case .body: signed.replacingOccurrences(of: "multi-part message", with: "multi-part massage")
            case .subject: signed.replacingOccurrences(of: "Subject: =?UTF-8?B?", with: "Subject: Re: =?UTF-8?B?")
            }
        }
    }

    let domain = "example.com"
    let selector = "masthead"

    @Test("a signed newsletter passes dkimpy's verification", .enabled(if: ExternalTool.available("python3")), arguments: KeyType.allCases)
    func verifies(keyType: KeyType) async throws {
        let keys = try DKIMSigner.generateKeyPair(ed25519: keyType == .ed25519)
        let signer = try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: keys.privateKeyPEM)

        let result = try await verify(signer.sign(newsletter()), record: keys.dnsRecordValue)

        #expect(result.status == 0, "\(result.output)")
    }

    @Test("a newsletter changed after signing fails dkimpy's verification", .enabled(if: ExternalTool.available("python3")),
          arguments: KeyType.allCases, Alteration.allCases)
    func alteredFails(keyType: KeyType, alteration: Alteration) async throws {
        let keys = try DKIMSigner.generateKeyPair(ed25519: keyType == .ed25519)
        let signed = try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: keys.privateKeyPEM).sign(newsletter())
        let altered = alteration.apply(to: signed)
        try #require(altered != signed)

        let result = try await verify(altered, record: keys.dnsRecordValue)

        // 1, not just "not 0": a verifier that could not run (status 2) proves nothing.
        #expect(result.status == 1, "\(result.output)")
    }

    @Test("the signature covers List-Unsubscribe and List-Unsubscribe-Post, as one-click unsubscription requires (RFC 8058 §4)")
    func coversUnsubscribeHeaders() throws {
        let keys = try DKIMSigner.generateKeyPair(ed25519: true)
        let signed = try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: keys.privateKeyPEM).sign(newsletter())

        let names = try signedHeaderNames(in: signed)

        #expect(names.contains("list-unsubscribe"))
        #expect(names.contains("list-unsubscribe-post"))
    }

    @Test("relaxed canonicalization gives the result of the example in RFC 6376 §3.4.5")
    func rfcExample() {
        let (fields, body) = RelaxedCanonicalization.canonicalize("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n")

        #expect(fields.map { String(decoding: $0, as: UTF8.self) } == ["a:X", "b:Y Z"])
        #expect(String(decoding: body, as: UTF8.self) == " C\r\nD E\r\n")
    }

    @Test("an empty body canonicalizes to nothing, not to a CRLF (RFC 6376 §3.4.4)")
    func emptyBody() {
        #expect(RelaxedCanonicalization.canonicalize("Subject: x\r\n\r\n").body.isEmpty)
        #expect(RelaxedCanonicalization.canonicalize("Subject: x\r\n\r\n\r\n \t\r\n").body.isEmpty)
    }

    @Test("a PEM that is not a private key is refused with a readable error")
    func refusesPublicKey() {
        let publicKey = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAFG3hvyH6qYApW+4+iXMSydVHga8EJe5Ey1NKOkgWTmc=
            -----END PUBLIC KEY-----
            """

        let error = #expect(throws: DKIMError.self) {
            try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: publicKey)
        }

        #expect(error?.description.contains("not a private key") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test("a selector that is not a DNS label is refused with a readable error")
    func refusesBadSelector() throws {
        let keys = try DKIMSigner.generateKeyPair(ed25519: true)

        let error = #expect(throws: DKIMError.self) {
            try DKIMSigner(domain: domain, selector: "mail 2025", privateKeyPEM: keys.privateKeyPEM)
        }

        #expect(error?.description.contains("selector") == true)
    }

    /// A newsletter as Masthead renders it: an Arabic subject long enough to be folded into
    /// several encoded words, and the one-click unsubscription headers (RFC 8058).
    private func newsletter() throws -> String {
        let rendered = EmailMessage(
            from: .init(email: "news@example.com", name: "صحيفة المساء"),
            to: .init(email: "reader@example.org", name: "Reader"),
            subject: "نشرة الصباح: أهم أخبار اليوم من بيروت والعالم",
            text: "Good morning.\n\nToday's news, in brief.", html: "<p>Good morning.</p>",
            extraHeaders: [
                ("List-Unsubscribe", "<https://example.com/unsubscribe/abc123>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ]
        ).rendered()
        try #require(rendered.contains("?=\r\n =?UTF-8?B?"), "the Subject should be folded, so that unfolding is tested")
        return rendered
    }

    /// The names in h= of the DKIM-Signature field at the top of a signed message.
    private func signedHeaderNames(in signed: String) throws -> [String] {
        let lines = signed.split(separator: "\r\n", omittingEmptySubsequences: false)
        let continuation = lines.dropFirst().prefix(while: { $0.first == "\t" || $0.first == " " })
        let field = ([lines[0]] + continuation).joined().filter { !$0.isWhitespace }
        let tag = try #require(field.split(separator: ";").first { $0.hasPrefix("h=") })
        return tag.dropFirst(2).split(separator: ":").map(String.init)
    }

    /// dkimpy's verdict, with the TXT record served in place of DNS: status 0 when the signature
    /// verifies, 1 when it does not, 2 when dkimpy (or PyNaCl, for Ed25519) is not installed.
    private func verify(_ signed: String, record: String) async throws -> ExternalTool.Result {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-dkim-\(UUID().uuidString).eml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(signed.utf8).write(to: file)
        return try await ExternalTool.run("python3", ["-c", Self.verifier, file.path, record, "\(selector)._domainkey.\(domain)."])
    }

    private static let verifier = """
        import logging, sys
        try:
            import dkim
            if b"k=ed25519" in sys.argv[2].encode():
                import nacl.signing
        except ImportError as missing:
            print(f"the DKIM verifier cannot run ({missing}): pip install dkimpy pynacl")
            sys.exit(2)
        path, record, name = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
        logging.basicConfig(stream=sys.stdout, level=logging.INFO)
        with open(path, "rb") as file:
            message = file.read()
        def lookup(query, timeout=5):
            return record if query == name else None
        sys.exit(0 if dkim.verify(message, logger=logging.getLogger("dkim"), dnsfunc=lookup) else 1)
        """
}
