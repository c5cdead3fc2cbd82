import Crypto
import Fluent
import Foundation
import SQLKit
import Vapor

/// Adds up the rate limiters' counts of every instance on one PostgreSQL database, once a
/// second: each instance adds what it counted to a row per caller and minute and reads back the
/// total, which its limiter then goes by. A caller is stored as a digest, never as the address
/// or key itself, and rows are deleted a few minutes after their window.
final class SharedRateWindows: Sendable {
    static let schema = "rate_windows"
    static let interval: Duration = .seconds(1)
    let limiters: [APIRateLimiter]

    init(limiters: [APIRateLimiter]) {
        self.limiters = limiters
    }

    /// One share; returns the callers' windows it added to.
    func share(on database: any Database, now: Date = Date()) async throws -> Int {
        let sql = database as! any SQLDatabase
        var shared = 0
        for limiter in limiters {
            let counts = limiter.takeUnshared()
            guard !counts.isEmpty else { continue }
            var callers: [String: String] = [:]
            for chunk in stride(from: 0, to: counts.count, by: 300).map({ counts[$0..<min($0 + 300, counts.count)] }) {
                let rows = chunk.map { count -> SQLQueryString in
                    let digest = Self.digest(count.caller)
                    callers[digest] = count.caller
                    return "(\(bind: limiter.scope), \(bind: digest), \(bind: count.minute), \(bind: count.count))"
                }
                let totals = try await sql.raw("""
                    INSERT INTO rate_windows (scope, caller, minute, count) VALUES \(rows.joined(separator: ", "))
                    ON CONFLICT (scope, caller, minute) DO UPDATE SET count = rate_windows.count + excluded.count
                    RETURNING caller, minute, count
                    """).all()
                for row in totals {
                    guard let caller = callers[try row.decode(column: "caller", as: String.self)] else { continue }
                    limiter.learn(caller: caller, minute: try row.decode(column: "minute", as: Int.self), total: try row.decode(column: "count", as: Int.self))
                }
            }
            shared += counts.count
        }
        let minute = Int(now.timeIntervalSince1970) / 60
        if shared > 0, minute % 5 == 0 {
            try await sql.raw("DELETE FROM rate_windows WHERE minute < \(bind: minute - 2)").run()
        }
        return shared
    }

    private static func digest(_ caller: String) -> String {
        SHA256.hash(data: Data(caller.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
