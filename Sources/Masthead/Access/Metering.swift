import Crypto
import Fluent
import Foundation
import SQLKit

/// The metered allowance: a reader may open a set number of gated articles per 30 days.
/// Reads are counted here, on the server, keyed by member or by an anonymous reader id; the
/// reader's cookie only says who they are, so editing it can at most start a new count.
struct Metering: Sendable {
    static let window: TimeInterval = 30 * 24 * 3600
    static let readerCookie = "mh_reader"
    /// The first key of the meter's PostgreSQL advisory locks, so they meet no other locks.
    static let lockNamespace: Int32 = 0x4D_54_52

    let database: any Database
    let now: Date

    static func readerKey(member id: UUID) -> String { "member:\(id.uuidString)" }

    /// Forgets reads older than the window: they no longer count against anyone.
    func pruneExpired() async throws {
        try await MeterRead.query(on: database).filter(\.$readAt <= now.addingTimeInterval(-Self.window)).delete()
    }

    /// Gated articles a member has opened on their allowance in the current window.
    func reads(member id: UUID) async throws -> Int {
        try await MeterRead.query(on: database)
            .filter(\.$readerKey == Self.readerKey(member: id)).filter(\.$readAt > now.addingTimeInterval(-Self.window)).count()
    }

    /// Whether this reader may open this article on their allowance, recording the read if so.
    /// An article already opened in the window stays open without counting twice. The read is
    /// recorded by one statement that inserts only while the reader has allowance left, so
    /// requests for many articles at once cannot all slip under the count; on PostgreSQL, where
    /// concurrent statements do not see each other's rows, a lock on the reader serialises them.
    func allows(readerKey: String, articleID: UUID, allowance: Int) async throws -> Bool {
        guard allowance > 0 else { return false }
        let since = now.addingTimeInterval(-Self.window)
        if try await opened(readerKey, articleID, since: since) { return true }
        try await MeterRead.query(on: database)
            .filter(\.$readerKey == readerKey).filter(\.$article.$id == articleID).delete()
        do {
            try await database.writeTransaction { db in
                let sql = db as! any SQLDatabase
                if sql.dialect.name == "postgresql" {
                    try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.lockNamespace), hashtext(\(bind: readerKey)))").run()
                }
                try await sql.raw("""
                    INSERT INTO meter_reads (id, reader_key, article_id, read_at)
                    SELECT \(bind: UUID()), \(bind: readerKey), \(bind: articleID), \(bind: now)
                    WHERE (SELECT COUNT(*) FROM meter_reads WHERE reader_key = \(bind: readerKey) AND read_at > \(bind: since)) < \(bind: allowance)
                    """).run()
            }
        } catch {
            // The same reader opened it twice at once: the other request counted it.
            guard (error as? any DatabaseError)?.isConstraintFailure == true else { throw error }
        }
        return try await opened(readerKey, articleID, since: since)
    }

    private func opened(_ readerKey: String, _ articleID: UUID, since: Date) async throws -> Bool {
        try await MeterRead.query(on: database)
            .filter(\.$readerKey == readerKey).filter(\.$article.$id == articleID).filter(\.$readAt > since)
            .first() != nil
    }
}

final class MeterRead: Model, @unchecked Sendable {
    static let schema = "meter_reads"

    @ID(key: .id) var id: UUID?
    @Field(key: "reader_key") var readerKey: String
    @Parent(key: "article_id") var article: Article
    @Field(key: "read_at") var readAt: Date

    init() {}

    init(readerKey: String, articleID: UUID, readAt: Date) {
        self.readerKey = readerKey
        self.$article.id = articleID
        self.readAt = readAt
    }
}

/// The anonymous reader's id, in the `mh_reader` cookie, signed by the site so that only ids
/// Masthead issued count. A reader who arrives without one gets the preview and an id; the
/// allowance starts when the browser sends the id back. So a client that sends no cookie, or
/// makes one up, never reads a gated article in full; one that clears its cookies is a new
/// reader, which is the limit of any meter without accounts.
struct ReaderIDs: Sendable {
    let key: SymmetricKey

    func issue() -> String {
        let id = SecretToken.generate()
        return id + "." + signature(of: id)
    }

    /// The id a genuine cookie carries, or nil for a missing, forged or malformed one.
    func verify(_ cookie: String?) -> String? {
        guard let cookie, cookie.count < 200 else { return nil }
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count >= 32 else { return nil }
        let id = String(parts[0])
        guard ConstantTime.equal(signature(of: id), String(parts[1])) else { return nil }
        return id
    }

    private func signature(of id: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data("reader:\(id)".utf8), using: key)).base64URLEncoded()
    }
}
