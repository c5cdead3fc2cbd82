import Foundation
import Testing
import Vapor
@testable import Masthead

@Suite("Cross-site request forgery", .serialized)
struct FormProtectionTests {
    /// Every registered route that can change something, with its parameters filled in.
    private func stateChangingPaths(_ site: TestSite) -> [String] {
        site.app.routes.all
            .filter { ![.GET, .HEAD, .OPTIONS].contains($0.method) }
            .map { route in
                "/" + route.path.map { component in
                    switch component {
                    case .constant(let text): text
                    case .parameter: UUID().uuidString
                    case .anything, .catchall: "x"
                    }
                }.joined(separator: "/")
            }
            .filter { path in !FormProtection.signedElsewhere.contains { path.hasPrefix($0) } && !FormProtection.originOnly.contains(path) }
    }

    /// A browser signed in as the owner and as a reader, holding every cookie a token can be bound to.
    private func fullySignedInBrowser(_ site: TestSite) async throws -> TestBrowser {
        let (browser, _) = try await Newsroom.signedIn(site, as: .owner)
        let email = "reader@example.com"
        _ = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": email])
        let verify = try await browser.get(try DevelopmentMail.latestPath(site, containing: "/signin/verify"))
        _ = try await browser.submit(verify, action: "/signin/verify")
        #expect(browser.cookies["mh_staff"] != nil && browser.cookies["mh_session"] != nil && browser.cookies["mh_csrf"] != nil)
        return browser
    }

    @Test("every route that changes something refuses a post without a token", arguments: [TestDatabase.sqlite])
    func noToken(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = try await fullySignedInBrowser(site)
            let paths = stateChangingPaths(site)
            #expect(paths.count > 20)
            for path in paths {
                let response = try await browser.post(path, form: ["email": "someone@example.com"])
                #expect(response.status == .forbidden, "\(path) answered \(response.status)")
            }
        }
    }

    @Test("every route that changes something refuses a token given to another browser", arguments: [TestDatabase.sqlite])
    func someoneElsesToken(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let attacker = TestBrowser(site: site)
            let attackersForm = try await attacker.get("/signin")
            let attackersToken = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: attackersForm.body).first)
            let victim = try await fullySignedInBrowser(site)
            for path in stateChangingPaths(site) {
                let response = try await victim.post(path, form: ["csrf": attackersToken])
                #expect(response.status == .forbidden, "\(path) answered \(response.status)")
            }
        }
    }

    @Test("a form with its own token is refused when another site posts it", arguments: [TestDatabase.sqlite])
    func foreignOrigin(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let browser = try await fullySignedInBrowser(site)
            let account = try await browser.get("/account")
            let token = try #require(HTML.attributeValues("value", of: "input type=\"hidden\" name=\"csrf\"", in: account.body).first)
            let crossSite = try await browser.post("/account/signout", form: ["csrf": token], origin: "https://attacker.example")
            #expect(crossSite.status == .forbidden)
            #expect(try await browser.get("/account").status == .ok)
            let sameSite = try await browser.post("/account/signout", form: ["csrf": token])
            #expect(sameSite.status == .seeOther)
        }
    }
}
