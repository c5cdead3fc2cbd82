import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Masthead

/// The `masthead` binary, run as an operator would run it.
@Suite("The command line")
struct CommandLineTests {
    @Test("an unknown flag fails with one line and a non-zero exit")
    func unknownFlag() async throws {
        let result = try await MastheadProcess.run(["demo", "--colour", "red"])
        #expect(result.status != 0)
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(result.standardError.contains("--colour"))
    }

    @Test("a data folder that cannot be created fails with one line")
    func unwritableDataFolder() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-file-\(UUID().uuidString)")
        try Data("not a folder".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let result = try await MastheadProcess.run(["demo", "--data", file.appendingPathComponent("data").path])
        #expect(result.status == 1)
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(result.standardError.hasPrefix("masthead: cannot create the data folder"))
    }

    @Test("billing sync-plans without Stripe fails with one line saying what to set")
    func syncPlansWithoutStripe() async throws {
        let result = try await MastheadProcess.run(["billing", "sync-plans"])
        #expect(result.status == 1)
        #expect(result.standardError == "masthead: Stripe is not configured: set MASTHEAD_STRIPE_SECRET_KEY and MASTHEAD_STRIPE_WEBHOOK_SECRET\n")
    }

    @Test("an unreachable database fails with one line naming it, without its password")
    func unreachableDatabase() async throws {
        let result = try await MastheadProcess.run(
            ["migrate"], environment: ["MASTHEAD_DATABASE_URL": "postgres://editor:hunter2@127.0.0.1:1/masthead"]
        )
        #expect(result.status == 1)
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(result.standardError.contains("cannot reach the database"))
        #expect(!result.standardError.contains("hunter2"))
    }

    @Test("a malformed setting fails with one line naming the variable")
    func malformedSetting() async throws {
        let result = try await MastheadProcess.run(["migrate"], environment: ["MASTHEAD_PORT": "eighty"])
        #expect(result.status == 1)
        #expect(result.standardError == "masthead: MASTHEAD_PORT must be a whole number from 1 to 65535, got 'eighty'\n")
    }

    @Test("export without a folder writes the whole site as JSON to standard output")
    func export() async throws {
        let settings = try await TestDatabase.sqlite.freshSettings()
        let app = try await MastheadApp.make(settings: settings)
        try await MastheadApp.migrate(app, settings: settings)
        let loaded = try await DemoContent.loadIfEmpty(on: app.db, settings: settings)
        await MastheadApp.stop(app)
        guard case .sqlite(let path) = settings.database else { return }

        let result = try await MastheadProcess.run(["export"], environment: ["MASTHEAD_DATABASE_URL": path])
        #expect(result.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(document["format"] as? String == "masthead-export")
        #expect(((document["tables"] as? [String: Any])?["articles"] as? [Any])?.count == loaded)
    }

    @Test("demo creates its data folder, loads the demo and serves it until stopped")
    func demoServes() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-demo-\(UUID().uuidString)").path
        let server = try MastheadProcess.start(["demo", "--data", data, "--port", "0"])
        defer { server.terminate() }

        let line = try #require(try await server.waitForLine(containing: "http://127.0.0.1:"))
        let admin = try #require(try await server.waitForLine(containing: "Demo admin:"))
        #expect(admin.contains("owner@demo.masthead.test with password "))
        let url = try #require(line.range(of: #"http://127\.0\.0\.1:\d+/"#, options: .regularExpression).map { String(line[$0]) })
        let (body, response) = try await URLSession.shared.data(from: URL(string: url + "healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self) == "ok\n")
        #expect(FileManager.default.fileExists(atPath: "\(data)/masthead.sqlite"))

        server.process.terminate()
        await server.process.exited()
        #expect(server.process.terminationStatus == 0)
    }

    @Test("started from any folder, the binary finds its theme and serves pages")
    func themeFromAnyFolder() async throws {
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let server = try MastheadProcess.start(["demo", "--data", elsewhere.appendingPathComponent("data").path, "--port", "0"], in: elsewhere)
        defer { server.terminate() }
        let line = try #require(try await server.waitForLine(containing: "http://127.0.0.1:"))
        let url = try #require(line.range(of: #"http://127\.0\.0\.1:\d+/"#, options: .regularExpression).map { String(line[$0]) })
        let (body, response) = try await URLSession.shared.data(from: URL(string: url)!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("<html lang=\"en\""))
        server.process.terminate()
        await server.process.exited()
    }

    @Test("without --data, demo uses MASTHEAD_DATA")
    func demoHonoursDataVariable() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-demo-env-\(UUID().uuidString)").path
        let server = try MastheadProcess.start(["demo", "--port", "0"], environment: ["MASTHEAD_DATA": data])
        defer { server.terminate() }
        #expect(try await server.waitForLine(containing: "\(data)/masthead.sqlite") != nil)
        #expect(FileManager.default.fileExists(atPath: "\(data)/secret"))
        server.process.terminate()
        await server.process.exited()
    }
}
