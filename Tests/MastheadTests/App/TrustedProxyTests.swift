import Fluent
import Foundation
import NIOHTTP1
import Testing
@testable import Masthead

@Suite("The client behind trusted proxies")
struct TrustedProxyTests {
    private let proxies = try! TrustedProxies(parsing: "127.0.0.0/8, ::1, 10.0.0.0/8")

    @Test("an untrusted peer is the client, whatever it forwards")
    func untrustedPeer() {
        let client = proxies.client(peer: "198.51.100.4", headers: ["X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"])
        #expect(client == RequestClient(address: "198.51.100.4", isHTTPS: false))
    }

    @Test("behind trusted proxies, the client is the right-most address no trusted proxy stands for")
    func rightMostUntrusted() {
        let spoofed = proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.2.3"])
        #expect(spoofed.address == "203.0.113.9")
        let split = proxies.client(peer: "10.0.0.1", headers: HTTPHeaders([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.9")]))
        #expect(split.address == "203.0.113.9")
    }

    @Test("a client's own Forwarded header is ignored, as proxies pass it through untouched")
    func forwardedHeaderIgnored() {
        let client = proxies.client(peer: "127.0.0.1", headers: ["Forwarded": "for=6.6.6.6", "X-Forwarded-For": "203.0.113.9"])
        #expect(client.address == "203.0.113.9")
    }

    @Test("a hop that is not an address ends the chain at the proxy that reported it")
    func malformedHopsEndTheChain() {
        #expect(proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "unknown, 10.0.0.5"]).address == "10.0.0.5")
        #expect(proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "1.2.3.4:80"]).address == "1.2.3.4")
        #expect(proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "[2001:db8::9]:80"]).address == "2001:db8::9")
        #expect(proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "_hidden"]).address == "127.0.0.1")
        #expect(proxies.client(peer: "::1", headers: ["X-Forwarded-For": "2001:db8::17"]).address == "2001:db8::17")
    }

    @Test("a trusted proxy's X-Forwarded-Proto says whether the reader came over https")
    func forwardedProto() {
        #expect(proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"]).isHTTPS)
        #expect(!proxies.client(peer: "127.0.0.1", headers: ["X-Forwarded-For": "203.0.113.9"]).isHTTPS)
    }

    @Test("rate limits count an IPv6 client by its /64 and an IPv4 client by its address")
    func limitKeys() {
        #expect(RequestClient(address: "2001:db8:1:2:aaaa::1", isHTTPS: false).limitKey == "2001:db8:1:2::/64")
        #expect(RequestClient(address: "2001:db8:1:2:ffff:ffff:ffff:ffff", isHTTPS: false).limitKey == "2001:db8:1:2::/64")
        #expect(RequestClient(address: "203.0.113.9", isHTTPS: false).limitKey == "203.0.113.9")
        #expect(RequestClient(address: "::ffff:203.0.113.9", isHTTPS: false).limitKey == "::ffff:203.0.113.9")
    }

    @Test("an IPv4-mapped IPv6 peer is matched against IPv4 ranges")
    func mappedAddresses() {
        #expect(proxies.trusts("::ffff:10.9.8.7"))
        #expect(!proxies.trusts("::ffff:11.9.8.7"))
        #expect(!proxies.trusts("not an address"))
    }

    @Test("a malformed range is refused at start-up with its name")
    func malformedRange() throws {
        for malformed in ["10.0.0.0/33", "/", "10.0.0.0/", "example.com"] {
            let error = #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_TRUSTED_PROXIES": malformed]) }
            #expect(error?.description.contains("MASTHEAD_TRUSTED_PROXIES") == true)
        }
        #expect(try Settings.fromEnvironment([:]).trustedProxies == .loopback)
    }

    @Test("a spoofed X-Forwarded-For from an untrusted peer changes nothing", arguments: TestDatabase.available)
    func spoofFromUntrustedPeer(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.trustedProxies = try TrustedProxies(parsing: "") }) { site in
            let browser = TestBrowser(site: site)
            browser.extraHeaders = [("X-Forwarded-For", "203.0.113.50")]
            _ = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "spoof@example.com"])
            let token = try #require(try await LoginToken.query(on: site.app.db).first())
            #expect(token.clientAddress == "127.0.0.1")
        }
    }

    @Test("behind a trusted proxy, each reader has a sign-in allowance of their own", arguments: TestDatabase.available)
    func perClientLimitBehindProxy(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let busy = TestBrowser(site: site)
            busy.extraHeaders = [("X-Forwarded-For", "203.0.113.50")]
            let form = try await busy.get("/signin")
            for number in 1...MagicLinks.perClientPerHour {
                _ = try await busy.submit(form, action: "/signin", ["email": "reader\(number)@example.com"])
            }
            #expect(try await busy.submit(form, action: "/signin", ["email": "more@example.com"]).status == .tooManyRequests)

            let other = TestBrowser(site: site)
            other.extraHeaders = [("X-Forwarded-For", "198.51.100.7")]
            let page = try await other.submit(try await other.get("/signin"), action: "/signin", ["email": "other@example.com"])
            #expect(page.status == .ok)
            let token = try #require(try await LoginToken.query(on: site.app.db).filter(\.$email == "other@example.com").first())
            #expect(token.clientAddress == "198.51.100.7")
        }
    }

    @Test("over https through a trusted proxy, cookies are Secure and HSTS is sent")
    func secureBehindProxy() async throws {
        try await withSite(on: .sqlite, configure: { $0.publicURL = "http://127.0.0.1" }) { site in
            let plain = try await site.get("/signin")
            #expect(plain.headers[.setCookie].allSatisfy { !$0.contains("Secure") })
            #expect(plain.headers.first(name: "Strict-Transport-Security") == nil)

            let proxied = try await site.get("/signin", headers: [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")])
            #expect(!proxied.headers[.setCookie].isEmpty && proxied.headers[.setCookie].allSatisfy { $0.contains("Secure") })
            #expect(proxied.headers.first(name: "Strict-Transport-Security") == "max-age=31536000")
        }
    }
}
