import Fluent
import Foundation
import Masthead
import Testing

/// The databases the suite runs against: SQLite always, PostgreSQL when
/// `MASTHEAD_TEST_POSTGRES_URL` names one (CI starts a throwaway server and sets it).
enum TestDatabase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["MASTHEAD_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The databases this run can use.
    static var available: [TestDatabase] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    var testDescription: String { rawValue }

    /// Settings for a new SQLite file, or for the PostgreSQL test database (which `TestSite` empties).
    func freshSettings() async throws -> Settings {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("masthead-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch self {
        case .sqlite:
            return TestSettings.make(database: .sqlite(path: "\(folder)/masthead.sqlite"), dataDirectory: folder)
        case .postgres:
            guard let url = Self.postgresURL else { throw TestSupportError("MASTHEAD_TEST_POSTGRES_URL is not set") }
            return TestSettings.make(database: .postgres(url: url), dataDirectory: folder)
        }
    }
}

enum TestSettings {
    /// The repository's own theme, found from this file so tests run from any directory.
    static let themeDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Themes/default").path
    }()

    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    static func make(database: Settings.DatabaseLocation, dataDirectory: String) -> Settings {
        Settings(
            database: database,
            dataDirectory: dataDirectory,
            publicURL: "https://news.example",
            hostname: "127.0.0.1",
            port: 0,
            themeDirectory: themeDirectory,
            editionCodes: ["en", "ar"],
            siteName: "Masthead Test",
            pageSize: 5,
            generationPollInterval: .milliseconds(100),
            generationWatchInterval: .milliseconds(100),
            commentCountsInterval: .seconds(1),
            logLevel: .error,
            developmentMail: true,
            billing: BillingSettings(testMode: true)
        )
    }
}

struct TestSupportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
