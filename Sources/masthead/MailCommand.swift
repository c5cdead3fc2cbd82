import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Masthead

/// `masthead mail dkim-key`: a key pair for signing the outlet's mail, and the DNS record to publish.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Set up the outlet's outgoing mail.",
        subcommands: [DKIMKey.self]
    )

    struct DKIMKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dkim-key",
            abstract: "Make a DKIM key pair: the private key goes to a file, the DNS record to publish is printed.",
            discussion: "Then set MASTHEAD_DKIM_DOMAIN, MASTHEAD_DKIM_SELECTOR and MASTHEAD_DKIM_KEY_FILE, once the record is published."
        )

        @ArgumentParser.Option(help: "The domain mail is sent from (the d= of the signature).") var domain: String
        @ArgumentParser.Option(help: "The selector: a name for this key, such as masthead2026.") var selector: String = "masthead"
        @ArgumentParser.Option(help: "Where to write the private key (it must not exist yet).") var out: String
        @ArgumentParser.Flag(help: "An Ed25519 key (RFC 8463) instead of RSA 2048. Not every receiver checks these yet: publish an RSA key too.") var ed25519 = false

        func run() async throws {
            let (pem, record) = try DKIMSigner.generateKeyPair(ed25519: ed25519)
            // Checked before anything is written: a key this signer cannot use is no use in DNS.
            _ = try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: pem)
            try Self.writeNew(out, pem)
            Terminal.say("Wrote the private key to \(out) (readable by you only).")
            Terminal.say("Publish this TXT record:")
            Terminal.say("\(selector)._domainkey.\(domain). IN TXT \"\(record)\"")
        }

        /// Creates the file readable by its owner only from the first byte, and never over an
        /// existing file or through a symbolic link.
        static func writeNew(_ path: String, _ text: String) throws {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
            guard descriptor >= 0 else {
                throw StartupError(errno == EEXIST ? "\(path) already exists: choose another file, so no key is overwritten" : "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try handle.write(contentsOf: Data(text.utf8))
        }
    }
}
