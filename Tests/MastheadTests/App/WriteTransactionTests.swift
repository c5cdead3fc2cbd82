import Fluent
import Foundation
import SQLKit
import Synchronization
import Testing
@testable import Masthead

/// SQLite has one writer at a time. A transaction that reads, then writes on what it read, must
/// wait for that turn before reading, or another connection's commit in between fails it.
@Suite struct WriteTransactionTests {
    @Test func aReadThenWriteIsNotFailedByAnotherWriterCommittingInBetween() async throws {
        try await withSite(on: .sqlite, withDemo: false) { site in
            let interloper = site.app.backgroundDatabase
            let interloperDone = Flag()
            let wrote = try await site.app.db.writeTransaction { db in
                let sql = db as! any SQLDatabase
                let before = try await Self.count(on: sql)
                // Another connection writes now. Given this transaction's turn it can only wait;
                // were it let through, this transaction's write below would find its read stale.
                let other = Task {
                    try await Self.insert("interloper", on: interloper as! any SQLDatabase)
                    interloperDone.raise()
                }
                for _ in 0..<50 where !interloperDone.isRaised {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let finishedFirst = interloperDone.isRaised
                try await Self.insert("after \(before)", on: sql)
                return (other, finishedFirst)
            }
            try await wrote.0.value
            #expect(wrote.1 == false)
            let keys = try await (site.app.db as! any SQLDatabase).raw("SELECT key FROM site_state WHERE key IN ('interloper', 'after 0')").all()
                .map { try $0.decode(column: "key", as: String.self) }
            #expect(Set(keys) == ["interloper", "after 0"])
        }
    }

    @Test func everyTransactionInTheSourcesSaysWhetherItWrites() throws {
        let sources = TestSettings.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && $0.lastPathComponent != "Transactions.swift" }
        #expect(files.count > 100)
        let plain = try files.filter { try String(contentsOf: $0, encoding: .utf8).contains(".transaction {") }
            .map(\.lastPathComponent)
        #expect(plain.isEmpty, "use writeTransaction or readOnlyTransaction in \(plain)")
    }

    private static func count(on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM site_state WHERE key IN ('interloper')").first()!.decode(column: "n", as: Int.self)
    }

    private static func insert(_ key: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("INSERT INTO site_state (key, value) VALUES (\(bind: key), 0)").run()
    }
}

private final class Flag: Sendable {
    private let raised = Mutex(false)
    var isRaised: Bool { raised.withLock { $0 } }
    func raise() { raised.withLock { $0 = true } }
}
