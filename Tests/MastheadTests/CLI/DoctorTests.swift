import Foundation
import Testing
@testable import Masthead

/// `masthead doctor`, run for real against running sites: one line per check, exit 1 on a problem.
@Suite("masthead doctor", .serialized)
struct DoctorTests {
    static func environment(for site: TestSite, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = ["MASTHEAD_DATA": site.settings.dataDirectory, "MASTHEAD_PUBLIC_URL": site.settings.publicURL, "MASTHEAD_DEV_MAIL": "1"]
        switch site.settings.database {
        case .sqlite(let path): environment["MASTHEAD_DATABASE_URL"] = path
        case .postgres(let url): environment["MASTHEAD_DATABASE_URL"] = url
        }
        return environment.merging(extra) { $1 }
    }

    /// The site's first heartbeat is written by a background task just after it starts.
    static func heartbeat(_ site: TestSite) async throws {
        #expect(try await waitUntil(seconds: 20) { try await !InstanceRegistry(database: site.app.db).live().isEmpty })
    }

    static func lines(_ output: String, _ verdict: Doctor.Finding.Verdict) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix(verdict.rawValue + " ") }
    }

    @Test("on a running SQLite site the doctor finds no problem, and says what it checked")
    func healthySite() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            try await Self.heartbeat(site)
            let result = try await MastheadProcess.run(["doctor"], environment: Self.environment(for: site))
            #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
            let ok = Self.lines(result.standardOutput, .ok)
            #expect(ok.contains { $0.hasPrefix("ok       database: SQLite ") })
            #expect(ok.contains("ok       migrations: all \(MastheadMigrations.all.count) applied"))
            #expect(ok.contains("ok       instances: 1 running (1 all)"))
            #expect(ok.contains("ok       shared secret: every running instance signs with this secret"))
            #expect(Self.lines(result.standardOutput, .warning).contains { $0.hasPrefix("warning  mail: development mail") })
            #expect(result.standardOutput.hasSuffix("No problems; 2 warnings.\n"))
        }
    }

    @Test("each problem is named in one line, and the doctor exits 1 with a count")
    func problemsNamed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-doctor-\(UUID().uuidString)").path
        let result = try await MastheadProcess.run(["doctor"], environment: [
            "MASTHEAD_DATA": folder, "MASTHEAD_PUBLIC_URL": "http://news.example.com",
            "MASTHEAD_SMTP_URL": "smtp://127.0.0.1:9", "MASTHEAD_STRIPE_SECRET_KEY": "pk_live_0123456789abcdefghij",
            "MASTHEAD_STRIPE_WEBHOOK_SECRET": "whsec_0123456789abcdefghij",
        ])
        #expect(result.status == 1)
        let problems = Self.lines(result.standardOutput, .problem)
        #expect(problems.contains("problem  public URL: http://news.example.com is not https: sessions and sign-in links would travel unencrypted"))
        #expect(problems.contains { $0.hasPrefix("problem  billing: MASTHEAD_STRIPE_SECRET_KEY does not look like a Stripe secret") })
        #expect(problems.contains { $0.hasPrefix("problem  mail: 127.0.0.1:9: ") })
        #expect(problems.contains("problem  database: there is no database at sqlite \(folder)/masthead.sqlite yet: masthead migrate (or serve) creates it"))
        #expect(problems.count == 4, "\(result.standardOutput)")
        #expect(result.standardError == "masthead: 4 problems found (0 warnings)\n")
        #expect(!FileManager.default.fileExists(atPath: folder), "the doctor created nothing, not even the data folder")
    }

    @Test("an SMTP server that answers is greeted and left, and no message is sent")
    func mailServerReached() async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: .sqlite, withDemo: false) { site in
            let result = try await MastheadProcess.run(["doctor"], environment: Self.environment(for: site, ["MASTHEAD_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)"]))
            #expect(Self.lines(result.standardOutput, .ok).contains("ok       mail: 127.0.0.1:\(smtp.port) accepted a connection"))
            #expect(try smtp.messages().isEmpty)
        }
    }

    @Test("on PostgreSQL, an instance signing with another secret is named, and the clocks are compared", .enabled(if: TestDatabase.available.contains(.postgres)))
    func differentSecretNamed() async throws {
        try await withSite(on: .postgres, withDemo: false) { site in
            try await Self.heartbeat(site)
            let result = try await MastheadProcess.run(["doctor"], environment: Self.environment(for: site, ["MASTHEAD_SECRET": "9f2c41d07be35a86e1c4f0d29b7a6e5c3d8f1a2b"]))
            #expect(result.status == 1)
            #expect(Self.lines(result.standardOutput, .ok).contains { $0.hasPrefix("ok       clock: within ") })
            let problem = try #require(Self.lines(result.standardOutput, .problem).first)
            #expect(problem == "problem  shared secret: 1 of 1 instances sign with a different secret (\(DatabaseSetup.applicationName)): set the same MASTHEAD_SECRET on every instance")
        }
    }

    @Test("on PostgreSQL without MASTHEAD_SECRET, or with only web instances running, the doctor says what will fail", .enabled(if: TestDatabase.available.contains(.postgres)))
    func missingSecretAndWorker() async throws {
        try await withSite(on: .postgres, withDemo: false, configure: { $0.role = .web }) { site in
            try await Self.heartbeat(site)
            let result = try await MastheadProcess.run(["doctor"], environment: Self.environment(for: site))
            let problems = Self.lines(result.standardOutput, .problem)
            #expect(problems.contains { $0.hasPrefix("problem  secret: MASTHEAD_SECRET is not set") })
            #expect(problems.contains { $0.hasPrefix("problem  instances: 1 running (1 web), none runs the background jobs") })
        }
    }

    @Test("scripts/install puts the binary, its resources and the theme under a prefix, and the installed binary finds its theme from any folder")
    func installedBinaryFindsItsTheme() async throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-prefix-\(UUID().uuidString)")
        let install = try await ExternalTool.run("/bin/bash", [
            TestSettings.repositoryRoot.appendingPathComponent("scripts/install").path, "--prefix", prefix.path,
            "--build-dir", MastheadProcess.executable.deletingLastPathComponent().path,
        ])
        #expect(install.status == 0, "\(install.output)")
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let result = try await MastheadProcess.run(
            ["doctor"], environment: ["MASTHEAD_DATA": elsewhere.appendingPathComponent("data").path, "MASTHEAD_DEV_MAIL": "1"], in: elsewhere,
            installed: prefix.appendingPathComponent("bin/masthead")
        )
        #expect(Self.lines(result.standardOutput, .ok).contains("ok       theme: \(prefix.path)/share/masthead/Themes/default, editions en, ar"), "\(result.standardOutput)")
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("bin/masthead_Masthead.resources").path))
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/masthead/deploy/systemd/masthead@.service").path))
    }
}

@Suite("The signing secret and the instance registry")
struct SecretAndRegistryTests {
    @Test("a signing key file that cannot be read is never replaced: the site's sessions and links would all end")
    func unreadableKeyKept() async throws {
        var settings = try await TestDatabase.sqlite.freshSettings()
        settings.secret = nil
        let path = SiteSecret.file(settings)
        FileManager.default.createFile(atPath: path, contents: Data("damaged".utf8))
        #expect(throws: StartupError.self) { try SiteSecret.load(settings) }
        #expect(FileManager.default.contents(atPath: path) == Data("damaged".utf8))
    }

    @Test("the example's placeholder, with or without its first words, and a run of one character are refused as secrets")
    func weakSecretsRefused() async throws {
        var settings = try await TestDatabase.sqlite.freshSettings()
        for secret in ["CHANGE-ME-to-the-output-of-openssl-rand-hex-32", "to-the-output-of-openssl-rand-hex-32", String(repeating: "ab", count: 20)] {
            settings.secret = secret
            #expect(throws: StartupError.self, "\(secret)") { try SiteSecret.read(settings) }
        }
        settings.secret = "9f2c41d07be35a86e1c4f0d29b7a6e5c3d8f1a2b"
        #expect(try SiteSecret.read(settings) != nil)
    }

    @Test("a serving instance is in the registry while it runs, and leaves it when it stops cleanly", arguments: TestDatabase.available)
    func registryFollowsInstance(database: TestDatabase) async throws {
        try await withSite(on: database, withDemo: false) { site in
            // The first heartbeat is written by a background task just after the server starts.
            #expect(try await waitUntil(seconds: 20) { try await InstanceRegistry(database: site.app.db).live().map(\.name) == [DatabaseSetup.applicationName] })
            let live = try await InstanceRegistry(database: site.app.db).live()
            #expect(live.first?.role == "all" && live.first?.migrations == MastheadMigrations.all.count)

            await site.stop()
            let app = try await MastheadApp.make(settings: site.settings)
            let after = try await InstanceRegistry(database: app.db).live()
            await MastheadApp.stop(app)
            #expect(after.isEmpty)
        }
    }
}
