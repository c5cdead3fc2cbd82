import Foundation
import Logging

/// Hands a finished message to whatever delivers mail.
public protocol MailTransport: Sendable {
    /// Returns the receiving server's answer to the message (for the record); throws `MailError`.
    func send(_ message: EmailMessage) async throws -> String
}

public enum MailError: Error, CustomStringConvertible, Equatable {
    /// A 4xx answer or a broken connection: worth trying again later.
    case transient(String)
    /// A 5xx answer: this message will never be accepted as it is.
    case permanent(String)
    /// A 5xx answer to the recipient itself: the address does not exist (a hard bounce).
    case recipientRefused(String)
    /// The whole message went to the server, whose answer never came: most likely delivered.
    /// Sending it again risks a second copy, which bulk mail avoids and a sign-in link may take.
    case unconfirmed(String)

    public var description: String {
        switch self {
        case .transient(let reason): "temporary mail failure: \(reason)"
        case .permanent(let reason): "permanent mail failure: \(reason)"
        case .recipientRefused(let reason): "recipient refused: \(reason)"
        case .unconfirmed(let reason): "unconfirmed delivery: \(reason)"
        }
    }

    public var isPermanent: Bool {
        switch self {
        case .transient, .unconfirmed: false
        case .permanent, .recipientRefused: true
        }
    }
}

/// A connection to whatever delivers mail, kept open for many messages (a newsletter's).
public protocol MailConnection: Sendable {
    /// `handingOver` runs when the server holds all of the message but the line that ends it,
    /// and says whether to end it: up to that moment the server keeps nothing (RFC 5321 §4.1.1.4),
    /// after it a crash cannot take the message back. A caller that records the hand-over there
    /// knows, after any crash, which messages may have gone. When it says no, or throws, the
    /// connection is closed without ending the message, and the error thrown. The server's
    /// answer to the end is awaited for `answerWithin` (RFC 5321 §4.5.3.2.6 suggests ten minutes:
    /// a client that gives up sooner risks a second copy), after which it is `unconfirmed`.
    func deliver(_ message: EmailMessage, answerWithin: Duration, handingOver: @Sendable () async throws -> Bool) async throws -> String
    func close() async
}

extension MailConnection {
    /// For mail that may arrive twice rather than late (a sign-in link): a minute for the answer.
    func deliver(_ message: EmailMessage) async throws -> String {
        try await deliver(message, answerWithin: .seconds(60)) { true }
    }
}

/// A message its caller chose not to hand over (`MailConnection.deliver`'s `handingOver`).
struct HandOverWithdrawn: Error {}

/// Opens connections for bulk mail.
public protocol MailConnector: Sendable {
    func connect() async throws -> any MailConnection
}

/// Development mail (`MASTHEAD_DEV_MAIL=1`, and the demo): each message is written as an `.eml`
/// file under the data folder and its file named in the log, clearly labelled as not sent.
public struct MailDropTransport: MailTransport, MailConnector, MailConnection {
    let directory: String
    let logger: Logger

    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    public func connect() async throws -> any MailConnection { self }
    public func deliver(_ message: EmailMessage, answerWithin: Duration, handingOver: @Sendable () async throws -> Bool) async throws -> String {
        guard try await handingOver() else { throw HandOverWithdrawn() }
        return try await send(message)
    }
    public func close() async {}

    public func send(_ message: EmailMessage) async throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let name = "\(Int(message.date.timeIntervalSince1970))-\(UUID().uuidString.prefix(8)).eml"
            let path = (directory as NSString).appendingPathComponent(name)
            try Data(message.rendered().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            // The file, never the message: a sign-in or password link in a log is an account
            // handed to whoever reads the logs.
            logger.notice("mail.development.written", metadata: [
                "file": "\(path)", "note": "development mail: not sent, set MASTHEAD_SMTP_URL to send",
            ])
            return "written to \(path)"
        } catch {
            throw MailError.transient("cannot write development mail: \(error.localizedDescription)")
        }
    }
}
