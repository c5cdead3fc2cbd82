import Fluent
import Foundation
import SQLKit
import Testing
@testable import Masthead

/// SQLite has one writer at a time. A transaction that reads, then writes on what it read, must
/// have that turn before it reads, or another connection's commit in between fails it.
@Suite struct WriteTransactionTests {
    @Test func noOtherConnectionWritesBetweenAWriteTransactionsReadAndItsWrite() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let interloper = site.app.backgroundDatabase
            let interloperFailed = try await site.app.db.writeTransaction { db in
                let sql = db as! any SQLDatabase
                let before = try await Self.count(on: sql)
                // Another connection, not willing to wait, tries to write now. Let through, its
                // commit would make the read above stale and fail the write below.
                let refused = try await interloper.withConnection { connection in
                    let other = connection as! any SQLDatabase
                    try await other.raw("PRAGMA busy_timeout=0").run()
                    let refused: Bool
                    do {
                        try await Self.insert("interloper", on: other)
                        refused = false
                    } catch {
                        refused = String(describing: error).contains("database is locked")
                    }
                    try await other.raw("PRAGMA busy_timeout=10000").run()
                    return refused
                }
                try await Self.insert("after \(before)", on: sql)
                return refused
            }
            #expect(interloperFailed)
            try await Self.insert("interloper", on: interloper as! any SQLDatabase)
            #expect(try await Self.count(on: site.app.db as! any SQLDatabase) == 1)
            let afterRead = try await (site.app.db as! any SQLDatabase).raw("SELECT key FROM site_state WHERE key = 'after 0'").all()
            #expect(afterRead.count == 1)
        }
    }

    @Test func everyTransactionInTheSourcesSaysWhetherItWrites() throws {
        let sources = TestSettings.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && $0.lastPathComponent != "Transactions.swift" }
        #expect(files.count > 100)
        let plain = try files.filter { try String(contentsOf: $0, encoding: .utf8).contains(/\.transaction\s*[({]/) }
            .map(\.lastPathComponent)
        #expect(plain.isEmpty, "use writeTransaction or readOnlyTransaction in \(plain)")
    }

    private static func count(on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM site_state WHERE key = 'interloper'").first()!.decode(column: "n", as: Int.self)
    }

    private static func insert(_ key: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("INSERT INTO site_state (key, value) VALUES (\(bind: key), 0)").run()
    }
}
