import Fluent
import Foundation
import SQLKit

/// A job that runs on one instance at a time, on a schedule or when staff ask (a backup). The
/// instance that takes the lease runs it and renews the lease as it goes; if it dies, the lease
/// lapses and the next due check on any instance takes it. The row also says what the job is
/// doing, for the admin.
struct JobLease: Sendable {
    static let schema = "job_leases"

    struct State: Decodable {
        let holder: UUID?
        let heldUntil: Date?
        let startedAt: Date?
        let finishedAt: Date?
        let requestedAt: Date?
        let requestedBy: String?
        let status: String?
        let outcome: String?

        enum CodingKeys: String, CodingKey {
            case holder, status, outcome
            case heldUntil = "held_until", startedAt = "started_at", finishedAt = "finished_at"
            case requestedAt = "requested_at", requestedBy = "requested_by"
        }

        func isRunning(at now: Date) -> Bool { holder != nil && (heldUntil ?? now) > now }
    }

    let database: any Database
    let name: String

    func state() async throws -> State? {
        try await sql.raw("SELECT * FROM job_leases WHERE name = \(bind: name)").first(decoding: State.self)
    }

    /// Takes the lease if nobody holds it, or its holder stopped renewing it: the token to
    /// renew and end it with, or nil. A request for a run is met by this one, and cleared.
    func take(for duration: TimeInterval, status: String, now: Date = Date()) async throws -> UUID? {
        try await sql.raw("INSERT INTO job_leases (name) VALUES (\(bind: name)) ON CONFLICT (name) DO NOTHING").run()
        let holder = UUID()
        let taken = try await sql.raw("""
            UPDATE job_leases SET holder = \(bind: holder), held_until = \(bind: now.addingTimeInterval(duration)),
              started_at = \(bind: now), status = \(bind: status), requested_at = NULL
            WHERE name = \(bind: name) AND (held_until IS NULL OR held_until < \(bind: now))
            RETURNING name
            """).all()
        return taken.isEmpty ? nil : holder
    }

    /// Renews the lease and says what the job is doing; false if it is no longer this holder's.
    func renew(_ holder: UUID, for duration: TimeInterval, status: String) async throws -> Bool {
        try await !sql.raw("""
            UPDATE job_leases SET held_until = \(bind: Date().addingTimeInterval(duration)), status = \(bind: status)
            WHERE name = \(bind: name) AND holder = \(bind: holder) RETURNING name
            """).all().isEmpty
    }

    /// Ends the run: `finished` says whether it did its work (the schedule counts from then).
    func end(_ holder: UUID, finished: Bool, outcome: String, at now: Date = Date()) async throws {
        let finishedAt: SQLQueryString = finished ? ", finished_at = \(bind: now)" : ""
        try await sql.raw("""
            UPDATE job_leases SET holder = NULL, held_until = NULL, status = NULL, outcome = \(bind: outcome)\(finishedAt)
            WHERE name = \(bind: name) AND holder = \(bind: holder)
            """).run()
    }

    /// Asks for a run at the next due check, whatever the schedule.
    func request(by requester: String, at now: Date = Date()) async throws {
        try await sql.raw("INSERT INTO job_leases (name) VALUES (\(bind: name)) ON CONFLICT (name) DO NOTHING").run()
        try await sql.raw("UPDATE job_leases SET requested_at = \(bind: now), requested_by = \(bind: requester) WHERE name = \(bind: name)").run()
    }

    private var sql: any SQLDatabase { database as! any SQLDatabase }
}
