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
/// that no trusted proxy stands for.
///
/// Only `X-Forwarded-For` and `X-Forwarded-Proto` are read, the headers every common proxy
/// appends or sets. RFC 7239's `Forwarded` is ignored: proxies that append to
/// `X-Forwarded-For` pass a client's own `Forwarded` through untouched, so reading it would
/// let any client choose its address.
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

    /// Who sent the request, and whether it reached the outlet over https. A hop that is not
    /// an IP address ends the walk: no trusted proxy wrote it, so nothing left of it counts.
    func client(peer: String?, headers: HTTPHeaders) -> RequestClient {
        guard let peer, trusts(peer) else { return RequestClient(address: peer ?? "unknown", isHTTPS: false) }
        let chain = headers[canonicalForm: "X-Forwarded-For"].map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for entry in chain.reversed() {
            let hop = Self.withoutPort(entry)
            guard IPRange.bytes(of: hop) != nil else { break }
            client = hop
            if !trusts(hop) { break }
        }
        let scheme = headers[canonicalForm: "X-Forwarded-Proto"].last?.lowercased()
        return RequestClient(address: client, isHTTPS: scheme == "https", viaTrustedProxy: true)
    }

    /// Some proxies write the client's port too: `203.0.113.9:4711`, `[2001:db8::1]:4711`.
    private static func withoutPort(_ hop: String) -> String {
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") {
            return String(hop[hop.index(after: hop.startIndex)..<close])
        }
        if hop.contains("."), let colon = hop.firstIndex(of: ":"), hop.filter({ $0 == ":" }).count == 1 {
            return String(hop[..<colon])
        }
        return hop
    }
}

/// The client a request came from, as far as the trusted proxies let Masthead know it.
struct RequestClient: Sendable, Equatable {
    let address: String
    let isHTTPS: Bool
    /// The request came through a trusted proxy, whose own headers (a request id) may be believed.
    var viaTrustedProxy = false

    /// Who counts as one client for rate limits and lockouts: an IPv4 address, or an IPv6
    /// address's /64, the block one subscriber is usually given whole and could otherwise
    /// rotate through for a fresh count each time.
    var limitKey: String {
        guard let bytes = IPRange.bytes(of: address), bytes.count == 16 else { return address }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}

/// An IPv4 or IPv6 range in CIDR notation; a bare address is a range of one.
struct IPRange: Sendable, Equatable {
    let network: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
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
