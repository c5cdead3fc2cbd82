import Fluent
import Foundation

/// One thing a staff member did in the admin, kept so the newsroom can see who changed what.
public final class AuditEvent: Model, @unchecked Sendable {
    public static let schema = "audit_events"

    @ID(key: .id) public var id: UUID?
    /// The address rather than a reference, so the record outlives the account.
    @Field(key: "staff_email") public var staffEmail: String
    @Field(key: "action") public var action: String
    @Field(key: "subject") public var subject: String
    @Field(key: "created_at") public var createdAt: Date

    public init() {}

    init(staffEmail: String, action: String, subject: String, at date: Date) {
        self.staffEmail = staffEmail
        self.action = action
        self.subject = subject
        self.createdAt = date
    }
}

/// Records staff actions; called inside the transaction that makes the change, so a change is
/// never without its record.
struct AuditLog: Sendable {
    static let systemActor = "scheduler"

    let database: any Database
    let now: Date

    func record(_ actor: String, _ action: String, _ subject: String) async throws {
        try await AuditEvent(staffEmail: actor, action: action, subject: String(subject.prefix(300)), at: now).create(on: database)
    }

    func recent(limit: Int, offset: Int = 0) async throws -> [AuditEvent] {
        try await AuditEvent.query(on: database).sort(\.$createdAt, .descending).range(offset..<(offset + limit)).all()
    }
}
