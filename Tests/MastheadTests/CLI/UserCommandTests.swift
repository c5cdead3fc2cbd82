import Fluent
import Foundation
import Testing
import Vapor
@testable import Masthead

@Suite("Creating staff from the command line")
struct UserCommandTests {
    @Test("creates the first owner with the password from standard input, stored as bcrypt")
    func createOwner() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        guard case .sqlite(let path) = settings.database else { return }
        let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": settings.dataDirectory]

        let created = try await MastheadProcess.run(["user", "create", "--email", "Editor@Example.com", "--role", "owner"], environment: environment, input: "correct horse battery\n")
        #expect(created.status == 0, "\(created.standardError)")
        #expect(created.standardOutput == "Created owner editor@example.com.\n")

        let again = try await MastheadProcess.run(["user", "create", "--email", "editor@example.com", "--role", "editor"], environment: environment, input: "another long password\n")
        #expect(again.status == 1)
        #expect(again.standardError == "masthead: a staff account for editor@example.com already exists\n")

        let app = try await MastheadApp.make(settings: settings)
        let staff = try await Staff.query(on: app.db).all()
        let accounts = StaffAccounts(database: app.db)
        await MastheadApp.stop(app)
        #expect(staff.count == 1)
        #expect(staff.first?.role == .owner)
        #expect(staff.first?.passwordHash.hasPrefix("$2") == true)
        #expect(try accounts.verify("correct horse battery", for: try #require(staff.first)))
        #expect(try !accounts.verify("wrong horse battery", for: try #require(staff.first)))
    }

    @Test("a short password, a bad address or an unknown role is refused in one line, and nothing is written")
    func refusals() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        guard case .sqlite(let path) = settings.database else { return }
        let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": settings.dataDirectory]

        let short = try await MastheadProcess.run(["user", "create", "--email", "a@example.com", "--role", "owner"], environment: environment, input: "short\n")
        #expect(short.status == 1)
        #expect(short.standardError == "masthead: the password must be at least 12 characters long\n")
        let address = try await MastheadProcess.run(["user", "create", "--email", "not-an-address", "--role", "owner"], environment: environment, input: "long enough password\n")
        #expect(address.status == 1)
        #expect(address.standardError.split(separator: "\n").count == 1)
        let role = try await MastheadProcess.run(["user", "create", "--email", "a@example.com", "--role", "emperor"], environment: environment, input: "long enough password\n")
        #expect(role.status != 0)
        #expect(role.standardError.split(separator: "\n").count == 1)
        let empty = try await MastheadProcess.run(["user", "create", "--email", "a@example.com", "--role", "owner"], environment: environment, input: "")
        #expect(empty.status != 0)
        #expect(empty.standardError.contains("no password given"))

        let app = try await MastheadApp.make(settings: settings)
        try await MastheadApp.migrate(app, settings: settings)
        let count = try await Staff.query(on: app.db).count()
        await MastheadApp.stop(app)
        #expect(count == 0)
    }

    @Test("a locked-out editor gets a new password and loses two-step sign-in from the command line; an unknown address is refused")
    func resetPassword() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        guard case .sqlite(let path) = settings.database else { return }
        let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": settings.dataDirectory]
        #expect(try await MastheadProcess.run(["user", "create", "--email", "ed@example.com", "--role", "editor"], environment: environment, input: "the first long password\n").status == 0)
        let app = try await MastheadApp.make(settings: settings)
        let staff = try #require(try await Staff.query(on: app.db).first())
        staff.totpSecret = TOTP.generate().base32
        try await staff.save(on: app.db)
        for _ in 0..<StaffSignIn.maximumFailures {
            _ = try await StaffSignIn(database: app.db, now: Date()).signIn(email: "ed@example.com", password: "wrong", clientAddress: "203.0.113.9") { _, _ in false }
        }
        await MastheadApp.stop(app)

        let unknown = try await MastheadProcess.run(["user", "password", "--email", "nobody@example.com"], environment: environment, input: "a second long password\n")
        #expect(unknown.status == 1)
        #expect(unknown.standardError == "masthead: there is no staff account for nobody@example.com\n")
        let reset = try await MastheadProcess.run(["user", "password", "--email", "ed@example.com", "--remove-two-step"], environment: environment, input: "a second long password\n")
        #expect(reset.status == 0, "\(reset.standardError)")
        #expect(reset.standardOutput == "Set a new password for ed@example.com and turned off two-step sign-in.\n")

        let after = try await MastheadApp.make(settings: settings)
        let outcome = try await StaffSignIn(database: after.db, now: Date()).signIn(email: "ed@example.com", password: "a second long password", clientAddress: "203.0.113.9") {
            try Bcrypt.verify($0, created: $1)
        }
        await MastheadApp.stop(after)
        guard case .signedIn = outcome else { Issue.record("signing in with the new password gave \(outcome)"); return }
    }
}
