import ArgumentParser
import Fluent
import Foundation
import Masthead
import Vapor

/// `masthead api key create|list|revoke`: Content API keys from the command line, for
/// operators who script their integrations (the admin's Integrations page does the same).
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Look after the Content API's keys.",
        subcommands: [Key.self]
    )

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Make, list and revoke integrations' keys.",
            subcommands: [Create.self, List.self, Revoke.self]
        )
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key and print it: it is not shown again.",
            discussion: "Access: public (previews of members' and paid articles), members (members' articles whole), paid (every article whole)."
        )

        @ArgumentParser.Option(help: "What the integration is, such as \"iOS app\".") var name: String
        @ArgumentParser.Option(help: "What its requests may read: public, members or paid.") var access: String = "public"

        func run() async throws {
            let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, name.count <= 100 else { throw StartupError("--name must be 1 to 100 characters") }
            guard let access = APIIntegration.Access(rawValue: access) else { throw StartupError("--access must be public, members or paid") }
            let key = try await withApp { app, _ in
                try await app.db.writeTransaction { db in
                    let key = try await APIKeys.create(name: name, access: access, by: nil, on: db).key
                    try await AuditLog.recordFromCommandLine("created an API key", "\(name) (\(access.rawValue))", on: db)
                    return key
                }
            }
            Terminal.say(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The integrations with a live key.")

        func run() async throws {
            let integrations = try await withApp { app, _ in
                try await APIIntegration.query(on: app.db).filter(\.$revokedAt == nil).sort(\.$createdAt).all()
            }
            guard !integrations.isEmpty else { return Terminal.say("No integration has a key.") }
            for integration in integrations {
                Terminal.say("\(integration.id?.uuidString.lowercased() ?? "")  …\(integration.keyHint)  \(integration.access.rawValue)  \(integration.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an integration's key, by the id `list` shows.")

        @ArgumentParser.Argument(help: "The integration's id.") var id: String

        func run() async throws {
            guard let id = UUID(uuidString: id) else { throw StartupError("\(id) is not an integration id; `masthead api key list` shows them") }
            try await withApp { app, _ in
                guard let integration = try await APIIntegration.find(id, on: app.db), integration.revokedAt == nil else {
                    throw StartupError("no integration with a live key has the id \(id)")
                }
                try await app.db.writeTransaction { db in
                    try await APIKeys.revoke(integration, on: db)
                    try await AuditLog.recordFromCommandLine("revoked an API key", integration.name, on: db)
                }
            }
            Terminal.say("Revoked. Running servers refuse the key within 10 seconds.")
        }
    }
}
