import Crypto
import Fluent
import Foundation
import SQLKit
import Synchronization
import Vapor

/// Adds up the rate limiters' counts of every instance on one PostgreSQL database, once a
/// second: each instance adds what it counted to a row per caller and minute and reads back the
/// total, which its limiter then goes by. A caller is stored as a keyed digest (an HMAC with the
/// site's key: an address could be found again from a plain hash of every address), and rows
/// are deleted a few minutes after their window, once a minute.
final class SharedRateWindows: Sendable {
    static let schema = "rate_windows"
    static let interval: Duration = .seconds(1)
    let limiters: [APIRateLimiter]
    private let key: SymmetricKey
    private let prunedMinute = Mutex(0)

    init(limiters: [APIRateLimiter], key: SymmetricKey) {
        self.limiters = limiters
        self.key = key
    }

    /// One share; returns the callers' windows it added to. Counts whose statement failed are
    /// given back to their limiter and carried by the next share.
    func share(on database: any Database, now: Date = Date()) async throws -> Int {
        let sql = database as! any SQLDatabase
        var shared = 0
        var failure: (any Error)?
        for limiter in limiters {
            let counts = limiter.takeUnshared()
            guard !counts.isEmpty else { continue }
            // In one order on every instance: two upserts taking the same rows in different
            // orders would deadlock.
            let ordered = counts.map { (digest: digest($0.caller), count: $0) }.sorted { ($0.digest, $0.count.minute) < ($1.digest, $1.count.minute) }
            for start in stride(from: 0, to: ordered.count, by: 300) {
                let chunk = ordered[start..<min(start + 300, ordered.count)]
                do {
                    try await add(chunk, for: limiter, on: sql)
                    shared += chunk.count
                } catch {
                    limiter.giveBack(chunk.map(\.count))
                    failure = error
                }
            }
        }
        try await prune(on: sql, now: now)
        if let failure { throw failure }
        return shared
    }

    private func add(_ chunk: ArraySlice<(digest: String, count: APIRateLimiter.Unshared)>, for limiter: APIRateLimiter, on sql: any SQLDatabase) async throws {
        var callers: [String: String] = [:]
        let rows = chunk.map { entry -> SQLQueryString in
            callers[entry.digest] = entry.count.caller
            return "(\(bind: limiter.scope), \(bind: entry.digest), \(bind: entry.count.minute), \(bind: entry.count.count))"
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

    /// Once a minute per instance: windows over for two minutes count for nobody.
    private func prune(on sql: any SQLDatabase, now: Date) async throws {
        let minute = Int(now.timeIntervalSince1970) / 60
        guard prunedMinute.withLock({ pruned in defer { pruned = minute }; return pruned != minute }) else { return }
        try await sql.raw("DELETE FROM rate_windows WHERE minute < \(bind: minute - 2)").run()
    }

    private func digest(_ caller: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("rate-window:\(caller)".utf8), using: key).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
