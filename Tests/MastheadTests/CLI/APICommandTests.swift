import Fluent
import Foundation
import Testing
@testable import Masthead

@Suite("Content API keys from the command line")
struct APICommandTests {
    @Test("a key made on the command line reads the API, is listed by its last characters, and stops working once revoked")
    func keyLifecycle() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        guard case .sqlite(let path) = settings.database else { return }
        let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": settings.dataDirectory]

        let created = try await MastheadProcess.run(["api", "key", "create", "--name", "Partner feed", "--access", "members"], environment: environment)
        #expect(created.status == 0, "\(created.standardError)")
        let key = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("mhk_"))

        let listed = try await MastheadProcess.run(["api", "key", "list"], environment: environment)
        let line = try #require(listed.standardOutput.split(separator: "\n").first { $0.hasSuffix("Partner feed") })
        #expect(line.contains("…\(key.suffix(4))  members"))
        #expect(!listed.standardOutput.contains(key))

        let app = try await MastheadApp.make(settings: settings)
        let keys = APIKeys(memory: 0)
        #expect(try await keys.integration(forKey: key, on: app.db)?.access == .members)
        let id = String(line.prefix { $0 != " " })
        let revoked = try await MastheadProcess.run(["api", "key", "revoke", id], environment: environment)
        #expect(revoked.status == 0, "\(revoked.standardError)")
        #expect(try await keys.integration(forKey: key, on: app.db) == nil)
        await MastheadApp.stop(app)
    }

    @Test("bad input is refused with a one-line reason and a non-zero exit")
    func badInput() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        guard case .sqlite(let path) = settings.database else { return }
        let environment = ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": settings.dataDirectory]
        for (arguments, reason) in [
            (["api", "key", "create", "--name", "X", "--access", "everything"], "--access must be public, members or paid"),
            (["api", "key", "create", "--name", "  "], "--name must be 1 to 100 characters"),
            (["api", "key", "revoke", "not-an-id"], "is not an integration id"),
            (["api", "key", "revoke", UUID().uuidString], "no integration with a live key"),
        ] {
            let result = try await MastheadProcess.run(arguments, environment: environment)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.standardError.contains(reason), "\(arguments): \(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count == 1, "\(arguments): \(result.standardError)")
        }
    }
}
