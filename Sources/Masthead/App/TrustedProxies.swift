import Foundation
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reverse proxies whose word Masthead takes for the client's address and scheme
/// (`MASTHEAD_TRUSTED_PROXIES`). Anyone can send `X-Forwarded-For`; only a hop that is itself
/// trusted can say who it talked to, so the client is the right-most address in the chain
/// that no trusted proxy stands for (RFC 7239 §7.4).
public struct TrustedProxies: Sendable, Equatable {
    public static let loopback = TrustedProxies(ranges: [IPRange("127.0.0.0/8")!, IPRange("::1/128")!])

    let ranges: [IPRange]

    init(ranges: [IPRange]) {
        self.ranges = ranges
    }

    /// Addresses and CIDR ranges separated by commas; an empty list trusts nobody.
    public init(parsing text: String) throws {
        var ranges: [IPRange] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let range = IPRange(item) else {
                throw SettingsError("MASTHEAD_TRUSTED_PROXIES must list addresses or CIDR ranges such as 10.0.0.0/8, got '\(item)'")
            }
            ranges.append(range)
        }
        self.init(ranges: ranges)
    }

    func trusts(_ address: String) -> Bool {
        guard let bytes = IPRange.bytes(of: address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// Who sent the request, and whether it reached the outlet over https.
    func client(peer: String?, headers: HTTPHeaders) -> RequestClient {
        guard let peer, trusts(peer) else { return RequestClient(address: peer ?? "unknown", isHTTPS: false) }
        let (chain, scheme) = Self.forwarded(headers)
        var client = peer
        for hop in chain.reversed() {
            client = hop
            if !trusts(hop) { break }
        }
        return RequestClient(address: client, isHTTPS: scheme?.lowercased() == "https")
    }

    /// The `for=` chain and `proto=` of `Forwarded` (RFC 7239), else `X-Forwarded-For` and
    /// `X-Forwarded-Proto`. The scheme is the one the proxy nearest to Masthead saw.
    private static func forwarded(_ headers: HTTPHeaders) -> (chain: [String], scheme: String?) {
        let standard = headers[canonicalForm: "Forwarded"]
        if !standard.isEmpty {
            var chain: [String] = []
            var scheme: String?
            for element in standard {
                for pair in element.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { continue }
                    switch parts[0].lowercased() {
                    case "for": chain.append(nodeAddress(parts[1]))
                    case "proto": scheme = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    default: break
                    }
                }
            }
            return (chain, scheme)
        }
        let chain = headers[canonicalForm: "X-Forwarded-For"].map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return (chain, headers[canonicalForm: "X-Forwarded-Proto"].last.map(String.init))
    }

    /// A `for=` node without quotes, brackets or port: `"[2001:db8::1]:4711"` is `2001:db8::1`.
    private static func nodeAddress(_ node: String) -> String {
        var text = node.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            text = String(text[..<colon])
        }
        return text
    }
}

/// The client a request came from, as far as the trusted proxies let Masthead know it.
struct RequestClient: Sendable, Equatable {
    let address: String
    let isHTTPS: Bool
}

/// An IPv4 or IPv6 range in CIDR notation; a bare address is a range of one.
struct IPRange: Sendable, Equatable {
    let network: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let bytes = Self.bytes(of: parts[0]) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, length >= 0, length <= bytes.count * 8 else { return nil }
        network = bytes
        prefixLength = length
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var remaining = prefixLength
        for index in network.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != network[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The address's bytes; an IPv4-mapped IPv6 address counts as the IPv4 address it maps.
    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes[12...])
        }
        return bytes
    }
}
