import Foundation
import NIOCore
import Testing
@testable import Masthead

/// The SMTP client against a real server: TLS upgrade, authentication, refusals.
@Suite("Sending over SMTP")
struct SMTPTests {
    let message = EmailMessage(
        from: .init(email: "news@example.com", name: "Masthead"), to: .init(email: "reader@example.com", name: "Reader"),
        subject: "Test", text: "Hello.", html: "<p>Hello.</p>"
    )

    @Test("a line that starts with a dot gets a second one, nothing else changes, and a lone dot ends the data", arguments: [
        (".lead\r\nmiddle\r\n.\r\n..two\r\n", "..lead\r\nmiddle\r\n..\r\n...two\r\n.\r\n"),
        ("no dots\r\nat line starts.\r\n", "no dots\r\nat line starts.\r\n.\r\n"),
        ("a bare\n.LF counts as a line end\r\n", "a bare\n..LF counts as a line end\r\n.\r\n"),
        ("smuggled\n.\r\nMAIL FROM:<x@example.com>\r\n", "smuggled\n..\r\nMAIL FROM:<x@example.com>\r\n.\r\n"),
        ("سطر\r\n.نقطة\r\n", "سطر\r\n..نقطة\r\n.\r\n"),
        ("no line end at the close", "no line end at the close\r\n.\r\n"),
    ])
    func dotStuffing(message: String, wire: String) {
        #expect(SMTPSession.dataSection(Array(message.utf8)) == ByteBuffer(string: wire))
    }

    @Test("writes each part in base64 lines of 76 characters, every line ending in CRLF and within RFC 5322's limit")
    func wireForm() {
        let long = EmailMessage(
            from: message.from, to: message.to, subject: "عنوان طويل", text: String(repeating: "نص عربي. ", count: 400),
            html: "<p>" + String(repeating: "long paragraph ", count: 500) + "</p>"
        )
        let wire = long.wireBytes()
        #expect(wire.suffix(2) == [0x0D, 0x0A])
        let lines = String(decoding: wire, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 998 && !$0.contains("\n") })
        #expect(lines.filter { $0.utf8.count == 76 }.count > 100)
    }

    @Test("upgrades with STARTTLS, verifies the certificate and authenticates")
    func startTLSAndAuth() async throws {
        let certificate = try await SelfSignedCertificate.make()
        let smtp = try await TestSMTPServer.start(arguments: ["--starttls", certificate.cert, certificate.key, "--auth", "sender:s3cret"])
        defer { smtp.stop() }
        let configuration = try SMTPConfiguration(url: "smtp://sender:s3cret@localhost:\(smtp.port)?starttls=required&ca=\(certificate.cert)")

        let receipt = try await SMTPTransport(configuration: configuration, heloName: "masthead.test").send(message)
        #expect(receipt.hasPrefix("250"))
        #expect(try smtp.messages(to: "reader@example.com").count == 1)
    }

    @Test("refuses a certificate it cannot verify")
    func untrustedCertificate() async throws {
        let certificate = try await SelfSignedCertificate.make()
        let smtp = try await TestSMTPServer.start(arguments: ["--starttls", certificate.cert, certificate.key])
        defer { smtp.stop() }
        let configuration = try SMTPConfiguration(url: "smtp://localhost:\(smtp.port)?starttls=required")

        await #expect(throws: MailError.self) {
            _ = try await SMTPTransport(configuration: configuration, heloName: "masthead.test").send(message)
        }
        #expect(try smtp.messages().isEmpty)
    }

    @Test("a 550 for the recipient is a permanent refusal of that address, a 451 transient")
    func refusals() async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        let transport = SMTPTransport(configuration: smtp.configuration, heloName: "masthead.test")
        let rejected = EmailMessage(from: message.from, to: .init(email: "reject-me@example.com"), subject: "x", text: "x", html: "x")
        let deferred = EmailMessage(from: message.from, to: .init(email: "tempfail-me@example.com"), subject: "x", text: "x", html: "x")
        await #expect { _ = try await transport.send(rejected) } throws: { error in
            if case MailError.recipientRefused = error { return true } else { return false }
        }
        await #expect { _ = try await transport.send(deferred) } throws: { error in
            if case MailError.transient = error { return true } else { return false }
        }
    }

    @Test("a message withdrawn before its last line never reaches the mailbox; the next connection delivers")
    func withdrawnBeforeTheEnd() async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        let transport = SMTPTransport(configuration: smtp.configuration, heloName: "masthead.test")
        let withdrawn = try await transport.connect()
        await #expect(throws: HandOverWithdrawn.self) { _ = try await withdrawn.deliver(message, answerWithin: .seconds(10)) { false } }
        let kept = try await transport.connect()
        // Asked while the server holds all but the end: nothing may be in the mailbox yet.
        let receipt = try await kept.deliver(message, answerWithin: .seconds(10)) { try smtp.messages().isEmpty }
        await kept.close()
        #expect(receipt.hasPrefix("250"))
        #expect(try await waitUntil(seconds: 5) { try smtp.messages().count == 1 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(try smtp.messages().count == 1)
    }

    @Test("a server that drops the connection after the message's end, without answering, leaves it unconfirmed, not failed")
    func noAnswerAfterTheEnd() async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        let vanishing = EmailMessage(from: message.from, to: .init(email: "vanish-me@example.com"), subject: "x", text: "x", html: "x")
        await #expect { _ = try await SMTPTransport(configuration: smtp.configuration, heloName: "masthead.test").send(vanishing) } throws: { error in
            if case MailError.unconfirmed = error { return true } else { return false }
        }
        #expect(try smtp.messages(to: "vanish-me@example.com").count == 1)
    }
}

/// A throwaway certificate for `localhost`, made with the openssl command.
enum SelfSignedCertificate {
    static func make() async throws -> (cert: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cert = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let made = try await ExternalTool.run("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ])
        guard made.status == 0 else { throw TestSupportError("openssl could not make a certificate") }
        return (cert, key)
    }
}
