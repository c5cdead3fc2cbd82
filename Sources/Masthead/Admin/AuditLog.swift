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
public struct AuditLog: Sendable {
    static let systemActor = "scheduler"
    /// Who the log names for what an operator did with the `masthead` command.
    static let commandLineActor = "command line"

    let database: any Database
    let now: Date

    func record(_ actor: String, _ action: String, _ subject: String) async throws {
        try await AuditEvent(staffEmail: actor, action: action, subject: String(subject.prefix(300)), at: now).create(on: database)
    }

    /// For the command line, which has no staff member to name.
    public static func recordFromCommandLine(_ action: String, _ subject: String, on database: any Database) async throws {
        try await AuditLog(database: database, now: Date()).record(commandLineActor, action, subject)
    }

    func recent(limit: Int, offset: Int = 0) async throws -> [AuditEvent] {
        try await AuditEvent.query(on: database).sort(\.$createdAt, .descending).range(offset..<(offset + limit)).all()
    }
}
