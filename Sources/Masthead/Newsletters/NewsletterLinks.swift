import Crypto
import Foundation

/// The newsletter pages, and the signed links in every newsletter email: unsubscribing needs
/// no sign-in (RFC 8058 one-click: the mail client posts to it), so the link itself proves
/// which subscription it ends, by an HMAC of the site's key that no one else can make.
struct NewsletterLinks: Sendable {
    static let segment = "newsletters"
    static let subscribeSegment = "subscribe"
    static let confirmSegment = "confirm"
    static let unsubscribeSegment = "unsubscribe"
    static let viewSegment = "view"
    static let accountSegment = "newsletters"

    let key: SymmetricKey
    let publicURL: String

    static var subscribe: String { "/\(segment)/\(subscribeSegment)" }
    static var confirm: String { "/\(segment)/\(confirmSegment)" }
    static var unsubscribePrefix: String { "/\(segment)/\(unsubscribeSegment)/" }

    static func page(edition: Edition) -> String { "\(edition.pathPrefix)/\(segment)" }
    static func account(edition: Edition) -> String { "\(edition.pathPrefix)/account/\(accountSegment)" }
    static func confirm(token: String) -> String { "\(confirm)?token=\(token)" }
    static func view(send id: UUID) -> String { "/\(segment)/\(viewSegment)/\(id.uuidString.lowercased())" }

    /// The path that unsubscribes one address from one list, whoever follows it.
    func unsubscribePath(subscription id: UUID) -> String {
        Self.unsubscribePrefix + id.uuidString.lowercased() + "." + signature(id)
    }

    func unsubscribeURL(subscription id: UUID) -> String { publicURL + unsubscribePath(subscription: id) }

    /// The subscription a link's last segment names, when its signature is right.
    func subscription(fromUnsubscribe segment: String) -> UUID? {
        let parts = segment.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let id = UUID(uuidString: String(parts[0])) else { return nil }
        let expected = Array(signature(id).utf8), given = Array(parts[1].utf8)
        guard expected.count == given.count, zip(expected, given).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        return id
    }

    private func signature(_ id: UUID) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data("unsubscribe:\(id.uuidString.lowercased())".utf8), using: key)).base64URLEncoded()
    }
}
