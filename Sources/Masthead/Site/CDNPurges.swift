import AsyncHTTPClient
import Fluent
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SQLKit

/// Purges waiting for the CDN. Each is written in the transaction of the change it is for
/// (`ContentGeneration.bump`), so a change that commits always has its purge, and a crash
/// between the commit and the request loses none.
enum CDNPurges {
    static let schema = "cdn_purges"

    static func enqueue(_ keys: SurrogateKeys, on database: any Database, now: Date = Date()) async throws {
        guard !keys.names.isEmpty else { return }
        try await (database as! any SQLDatabase).raw("""
            INSERT INTO cdn_purges (keys, created_at, next_attempt_at, attempts)
            VALUES (\(bind: keys.names.joined(separator: " ")), \(bind: now), \(bind: now), 0)
            """).run()
    }
}

/// Sends the queued purges to the CDN's purge hook, on the instances that run background jobs.
/// A pass claims what is due, sends the names of all of it at once (a burst of publishes makes
/// one request, or a few where the CDN caps the names per request), and deletes it once the
/// CDN has said yes. Each purge is sent once more `repeatAfter` later: an instance that had
/// not yet heard of the change when the CDN fetched the page again may have given it the old
/// one, which would otherwise stay until its time ran out. A refusal or an unreachable CDN is tried again with a growing pause, up to
/// a minute; a purge older than any shared copy can live (`relevance`) is dropped, since the
/// copies it was for have run out by then. An instance killed mid-request leaves its claim to
/// lapse, and the purge is sent again: purging twice does no harm.
struct CDNPurger: Sendable {
    static let claim: TimeInterval = 120
    static let rowsPerPass = 500

    let database: any Database
    let client: HTTPClient
    let hook: CDNPurgeHook?
    /// The longest a CDN may serve a page: its `s-maxage` and `stale-while-revalidate`.
    let relevance: TimeInterval
    let repeatAfter: TimeInterval
    let logger: Logger

    /// Sends what is due; returns how many queued purges it settled.
    @discardableResult
    func purgeDue(now: Date = Date()) async throws -> Int {
        let sql = database as! any SQLDatabase
        // A read first: most passes find nothing, and on SQLite a write, even one that changes
        // nothing, would take the one write lock every few moments for nothing.
        let due = try await sql.raw("""
            SELECT id FROM cdn_purges WHERE next_attempt_at <= \(bind: now) AND (claimed_until IS NULL OR claimed_until < \(bind: now)) LIMIT 1
            """).first()
        guard due != nil else { return 0 }
        guard let hook else {
            // No CDN to tell: what was queued is of no use to anyone.
            try await sql.raw("DELETE FROM cdn_purges WHERE created_at <= \(bind: now)").run()
            return 0
        }
        let moot = try await sql.raw("""
            DELETE FROM cdn_purges WHERE created_at < \(bind: now.addingTimeInterval(-relevance))
              AND (claimed_until IS NULL OR claimed_until < \(bind: now)) RETURNING id
            """).all()
        if !moot.isEmpty {
            logger.warning("cdn.purge_dropped", metadata: ["count": "\(moot.count)", "reason": "older than any copy a CDN may still hold"])
        }
        let claimed = try await claim(now: now)
        guard !claimed.rows.isEmpty else { return moot.count }
        let ids: [any Encodable & Sendable] = claimed.rows.map(\.id)
        var seen = Set<String>()
        var names = claimed.rows.flatMap { $0.keys.split(separator: " ").map(String.init) }.filter { seen.insert($0).inserted }
        if names.contains("site") { names = ["site"] }
        do {
            for start in stride(from: 0, to: names.count, by: hook.style.batch) {
                try await send(Array(names[start..<min(start + hook.style.batch, names.count)]), to: hook)
            }
        } catch {
            let attempts = claimed.rows.map(\.attempts).max() ?? 1
            let retryAt = now.addingTimeInterval(min(60, pow(2, Double(attempts - 1))))
            try await sql.raw("""
                UPDATE cdn_purges SET claimed_until = NULL, next_attempt_at = \(bind: retryAt), last_error = \(bind: String("\(error)".prefix(300)))
                WHERE id IN (\(binds: ids)) AND claimed_until = \(bind: claimed.until)
                """).run()
            logger.warning("cdn.purge_failed", metadata: ["names": "\(names.count)", "attempt": "\(attempts)", "error": "\(error)"])
            return moot.count
        }
        try await sql.raw("DELETE FROM cdn_purges WHERE id IN (\(binds: ids)) AND claimed_until = \(bind: claimed.until)").run()
        if claimed.rows.contains(where: { !$0.echo }) {
            let again = now.addingTimeInterval(repeatAfter)
            try await sql.raw("""
                INSERT INTO cdn_purges (keys, created_at, next_attempt_at, attempts, echo)
                VALUES (\(bind: names.joined(separator: " ")), \(bind: now), \(bind: again), 0, \(bind: true))
                """).run()
        }
        logger.info("cdn.purged", metadata: ["names": "\(names.joined(separator: " ").prefix(500))"])
        return moot.count + claimed.rows.count
    }

    private struct Claimed: Decodable, Sendable {
        let id: Int64
        let keys: String
        let attempts: Int
        /// Itself the repeat of a purge, which is not repeated again.
        let echo: Bool
    }

    private func claim(now: Date) async throws -> (rows: [Claimed], until: Date) {
        let sql = database as! any SQLDatabase
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        // Whole seconds, so that the claim compares equal after a round trip through either database.
        let until = Date(timeIntervalSince1970: now.addingTimeInterval(Self.claim).timeIntervalSince1970.rounded(.down))
        let rows = try await sql.raw("""
            UPDATE cdn_purges SET claimed_until = \(bind: until), attempts = attempts + 1
            WHERE id IN (SELECT id FROM cdn_purges
                         WHERE next_attempt_at <= \(bind: now) AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                         ORDER BY id LIMIT \(bind: Self.rowsPerPass)\(lock))
            RETURNING id, keys, attempts, echo
            """).all(decoding: Claimed.self)
        return (rows, until)
    }

    private struct Refused: Error, CustomStringConvertible {
        let status: HTTPResponseStatus
        var description: String { "the purge hook answered \(status.code) \(status.reasonPhrase)" }
    }

    private func send(_ names: [String], to hook: CDNPurgeHook) async throws {
        var request = HTTPClientRequest(url: hook.url.absoluteString)
        switch hook.style {
        case .varnish:
            request.method = .RAW(value: "PURGE")
            request.headers.add(name: "xkey-purge", value: names.joined(separator: " "))
        case .generic, .fastly, .cloudflare:
            let field = switch hook.style {
            case .fastly: "surrogate_keys"
            case .cloudflare: "tags"
            case .generic, .varnish: "keys"
            }
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode([field: names])))
        }
        if let token = hook.token {
            request.headers.add(name: hook.style == .fastly ? "Fastly-Key" : "Authorization", value: hook.style == .fastly ? token : "Bearer \(token)")
        }
        let response = try await client.execute(request, timeout: .seconds(15))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else { throw Refused(status: response.status) }
    }
}
