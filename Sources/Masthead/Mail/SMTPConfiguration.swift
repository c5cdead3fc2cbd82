import Foundation

/// Where and how to hand mail to an SMTP server, from `MASTHEAD_SMTP_URL`:
/// - `smtp://host:587`: plain connection upgraded with STARTTLS (RFC 3207); a server that does
///   not offer it is refused, unless it is on this machine (loopback), where STARTTLS is used
///   when offered. Credentials are only ever sent over TLS or to a loopback server;
/// - `smtp://host:587?starttls=opportunistic`: use STARTTLS when offered, send in the clear
///   otherwise (a downgrade anyone on the path can force: only for a trusted network);
/// - `smtp://host:587?starttls=required`: insist on STARTTLS, on loopback too;
/// - `smtps://host:465`: TLS from the first byte (RFC 8314);
/// - `user:password@` in either form enables AUTH PLAIN or LOGIN (RFC 4954);
/// - `?ca=/path/to/ca.pem` trusts a private certificate authority instead of the system's.
public struct SMTPConfiguration: Sendable, Equatable {
    public enum Security: Sendable, Equatable {
        case opportunisticSTARTTLS
        case requiredSTARTTLS
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// PEM file of the certificate authorities to trust; the system's when nil.
    public var trustRootsPath: String?

    public init(
        host: String, port: Int, security: Security, username: String? = nil, password: String? = nil,
        trustRootsPath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.trustRootsPath = trustRootsPath
    }

    public init(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              let host = components.host, !host.isEmpty else {
            throw SettingsError("MASTHEAD_SMTP_URL must look like smtp://user:password@host:587")
        }
        switch scheme {
        case "smtp":
            switch components.queryItems?.first(where: { $0.name == "starttls" })?.value {
            case "required": security = .requiredSTARTTLS
            case "opportunistic": security = .opportunisticSTARTTLS
            case nil: security = Self.isLoopback(host) ? .opportunisticSTARTTLS : .requiredSTARTTLS
            case let other?: throw SettingsError("MASTHEAD_SMTP_URL: starttls must be required or opportunistic, got '\(other)'")
            }
            port = components.port ?? 587
        case "smtps":
            security = .implicitTLS
            port = components.port ?? 465
        default:
            throw SettingsError("MASTHEAD_SMTP_URL must start with smtp:// or smtps://")
        }
        self.host = host
        username = components.user?.removingPercentEncoding
        password = components.password?.removingPercentEncoding
        trustRootsPath = components.queryItems?.first { $0.name == "ca" }?.value
    }

    /// The name sent in TLS SNI and checked against the certificate; RFC 6066 §3 forbids
    /// IP literals in SNI, so an address is verified without one.
    var serverNameIndication: String? {
        host.contains(":") || host.split(separator: ".").allSatisfy({ Int($0) != nil }) ? nil : host
    }

    var isLoopback: Bool { Self.isLoopback(host) }

    /// An address on this machine, read as an address: a name such as `127.mail.example.com` is not.
    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || TrustedProxies.loopback.trusts(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
    }
}
