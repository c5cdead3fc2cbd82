import Foundation

/// The push services Masthead will send to. A subscription names the address its messages go
/// to, and that address comes from the reader's browser: without a list, anyone could make the
/// server post to any host it can reach (its own database, a cloud metadata address). The
/// browsers' own services are listed by default; `MASTHEAD_PUSH_SERVICES` replaces the list.
struct PushServices: Sendable, Equatable {
    /// Host names, or `*.` and a domain for any host under it.
    let hosts: [String]

    static let browsers = PushServices(hosts: [
        "fcm.googleapis.com", "updates.push.services.mozilla.com", "*.push.services.mozilla.com",
        "*.notify.windows.com", "web.push.apple.com", "*.push.apple.com",
    ])

    init(hosts: [String]) {
        self.hosts = hosts.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    init(parsing text: String) {
        self.init(hosts: text.split(separator: ",").map(String.init))
    }

    /// Whether a subscription's endpoint may be sent to: HTTPS to a listed host on the default
    /// port, with no user name or password in it. Plain HTTP only to a listed loopback address
    /// (a push service run for tests).
    func allows(_ endpoint: String) -> Bool {
        // The host as written, not as Foundation decodes it: `%00` in a host would pass a suffix
        // check here and cut the name short in the resolver.
        guard endpoint.utf8.count <= 1_000, endpoint.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
              let host = url.host(percentEncoded: true)?.lowercased(), !host.isEmpty, url.user == nil, url.password == nil,
              host.utf8.allSatisfy({ Self.hostBytes.contains($0) }) || Self.loopback.contains(host)
        else { return false }
        switch scheme {
        case "https": guard url.port == nil || url.port == 443 else { return false }
        case "http": guard Self.loopback.contains(host) else { return false }
        default: return false
        }
        return hosts.contains { pattern in
            pattern.hasPrefix("*.") ? host.hasSuffix(pattern.dropFirst()) && host.count > pattern.count - 1 : host == pattern
        }
    }

    private static let loopback: Set<String> = ["127.0.0.1", "localhost", "[::1]", "::1"]
    private static let hostBytes = Set("abcdefghijklmnopqrstuvwxyz0123456789.-".utf8)
}
