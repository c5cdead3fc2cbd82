import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

@Suite("Staff sign-in under attack")
struct StaffLockoutTests {
    @Test("a stranger's wrong guesses lock out the stranger, never the account's owner signing in from elsewhere", arguments: TestDatabase.available)
    func strangerCannotLockOutOwner(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let owner = try await Newsroom.hire(site, .owner)
            let signIn = StaffSignIn(database: site.app.db, now: Date())
            for _ in 0..<StaffSignIn.maximumFailures {
                _ = try await signIn.signIn(email: owner.email, password: "a guess", clientAddress: "203.0.113.66") { _, _ in false }
            }
            let stranger = try await signIn.signIn(email: owner.email, password: Newsroom.password, clientAddress: "203.0.113.66") { _, _ in true }
            #expect(stranger == .locked)
            let fromHome = try await signIn.signIn(email: owner.email, password: Newsroom.password, clientAddress: "198.51.100.20") { _, _ in true }
            guard case .signedIn = fromHome else { Issue.record("the owner was locked out: \(fromHome)"); return }
        }
    }

    @Test("over HTTP behind the proxy, five failures lock that client out with a 429, and others still sign in")
    func lockoutOverHTTP() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let owner = try await Newsroom.hire(site, .owner)
            let attacker = TestBrowser(site: site)
            attacker.extraHeaders = [("X-Forwarded-For", "203.0.113.66")]
            let form = try await attacker.get("/admin/signin")
            for _ in 0..<StaffSignIn.maximumFailures {
                _ = try await attacker.submit(form, action: "/admin/signin", ["email": owner.email, "password": "wrong password guess"])
            }
            let locked = try await attacker.submit(form, action: "/admin/signin", ["email": owner.email, "password": Newsroom.password])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.body.contains("try again in 15 minutes"))

            let colleague = TestBrowser(site: site)
            colleague.extraHeaders = [("X-Forwarded-For", "198.51.100.20")]
            let page = try await colleague.submit(try await colleague.get("/admin/signin"), action: "/admin/signin", ["email": owner.email, "password": Newsroom.password])
            #expect(page.headers.first(name: .location) == "/admin")
        }
    }

    @Test("guesses at an address without an account are locked out alike, so the lockout names no one", arguments: TestDatabase.available)
    func lockoutDoesNotEnumerate(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            let owner = try await Newsroom.hire(site, .owner)
            let signIn = StaffSignIn(database: site.app.db, now: Date())
            var answers: [String: [StaffSignIn.Outcome]] = [:]
            for email in [owner.email, "nobody@newsroom.example"] {
                for _ in 0...StaffSignIn.maximumFailures {
                    answers[email, default: []].append(try await signIn.signIn(email: email, password: "a guess", clientAddress: "203.0.113.66") { _, _ in false })
                }
            }
            #expect(answers[owner.email] == answers["nobody@newsroom.example"])
            #expect(answers[owner.email]?.last == .locked)
        }
    }

    @Test("an unknown address and an account without a password are checked with bcrypt all the same")
    func unknownAddressCostsTheSame() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let signIn = StaffSignIn(database: site.app.db, now: Date())
            let checks = Counter()
            let unknown = try await signIn.signIn(email: "nobody@example.com", password: "a guess", clientAddress: "203.0.113.1") { password, hash in
                checks.increment()
                return try Bcrypt.verify(password, created: hash)
            }
            #expect(unknown == .refused)
            let invited = Staff(email: "invited@example.com", name: "Invited", role: .author, passwordHash: "")
            try await invited.create(on: site.app.db)
            let noPassword = try await signIn.signIn(email: "invited@example.com", password: "", clientAddress: "203.0.113.1") { password, hash in
                checks.increment()
                return try Bcrypt.verify(password, created: hash)
            }
            #expect(noPassword == .refused)
            #expect(checks.value == 2)
        }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
