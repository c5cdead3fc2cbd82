import ArgumentParser
import Foundation
import Masthead

/// `masthead user create`: the first owner comes from the command line, before any admin exists.
/// `masthead user password`: the way back in for staff locked out of their mail or authenticator.
struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage staff accounts.",
        subcommands: [Create.self, Password.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a staff account. The password is asked for, or read from standard input in scripts."
        )

        @ArgumentParser.Option(help: "The staff member's email address.") var email: String
        @ArgumentParser.Option(help: "One of: \(StaffRole.allCases.map(\.rawValue).joined(separator: ", ")).") var role: StaffRole
        @ArgumentParser.Option(help: "The name shown in the admin.") var name: String = ""

        func run() async throws {
            let password = try PasswordInput.read(prompt: "Password for \(email): ")
            let settings = try Settings.fromEnvironment()
            let app = try await MastheadApp.make(settings: settings)
            do {
                try await MastheadApp.migrate(app, settings: settings)
                let staff = try await StaffAccounts(database: app.db).create(email: email, name: name, role: role, password: password)
                await MastheadApp.stop(app)
                Terminal.say("Created \(staff.role.rawValue) \(staff.email).")
            } catch {
                await MastheadApp.stop(app)
                throw error
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a staff account's password, lift a lockout and sign it out everywhere. The password is asked for, or read from standard input."
        )

        @ArgumentParser.Option(help: "The staff member's email address.") var email: String
        @ArgumentParser.Flag(help: "Also turn off two-step sign-in, for someone who lost their authenticator.") var removeTwoStep = false

        func run() async throws {
            let password = try PasswordInput.read(prompt: "New password for \(email): ")
            let settings = try Settings.fromEnvironment()
            let app = try await MastheadApp.make(settings: settings)
            do {
                try await MastheadApp.migrate(app, settings: settings)
                let staff = try await StaffAccounts(database: app.db).resetPassword(email: email, password: password, removeTwoStep: removeTwoStep)
                await MastheadApp.stop(app)
                Terminal.say("Set a new password for \(staff.email)\(removeTwoStep ? " and turned off two-step sign-in" : "").")
            } catch {
                await MastheadApp.stop(app)
                throw error
            }
        }
    }
}

extension StaffRole: ExpressibleByArgument {}

/// A password from the terminal without echo, or the first line of standard input when piped.
enum PasswordInput {
    static func read(prompt: String) throws -> String {
        let line: String?
        if isatty(STDIN_FILENO) == 1 {
            line = getpass(prompt).map { String(cString: $0) }
        } else {
            line = Swift.readLine(strippingNewline: true)
        }
        guard let password = line, !password.isEmpty else {
            throw ValidationError("no password given (type it when asked, or pipe it on standard input)")
        }
        return password
    }
}
