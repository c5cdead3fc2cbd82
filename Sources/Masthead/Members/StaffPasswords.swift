import Fluent
import SQLKit
import Foundation
import Vapor

/// A single-use link that lets a staff member set their password: an invitation to a new
/// account (valid a week) or a reset of a forgotten one (valid an hour). Stored as a digest.
final class StaffToken: Model, @unchecked Sendable {
    static let schema = "staff_tokens"

    enum Purpose: String, Codable {
        case invitation, reset

        var lifetime: TimeInterval { self == .invitation ? 7 * 24 * 3600 : 3600 }
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "staff_id") var staff: Staff
    @Field(key: "token_hash") var tokenHash: String
    @Enum(key: "purpose") var purpose: Purpose
    @Field(key: "expires_at") var expiresAt: Date

    init() {}

    init(staffID: UUID, tokenHash: String, purpose: Purpose, expiresAt: Date) {
        self.$staff.id = staffID
        self.tokenHash = tokenHash
        self.purpose = purpose
        self.expiresAt = expiresAt
    }
}

/// Invitations, password resets and setting a password from their links.
struct StaffPasswords: Sendable {
    static let resetsPerHour = 3

    let database: any Database
    let now: Date

    /// Creates an account without a password and returns the invitation link's token.
    func invite(email text: String, name: String, role: StaffRole, by manager: Staff) async throws -> (Staff, String) {
        guard StaffPolicy.assignableRoles(by: manager.role).contains(role) else { throw EditorialError.forbidden }
        guard let email = EmailAddress.normalized(text) else { throw EditorialError.invalid(["email": "Enter a valid email address."]) }
        if try await Staff.query(on: database).filter(\.$email == email).count() > 0 {
            throw EditorialError.invalid(["email": "\(email) already has a staff account."])
        }
        return try await database.writeTransaction { db in
            let staff = Staff(email: email, name: name.trimmingCharacters(in: .whitespaces).isEmpty ? email : name, role: role, passwordHash: "")
            try await staff.create(on: db)
            let token = try await issue(.invitation, for: staff, on: db)
            try await AuditLog(database: db, now: now).record(manager.email, "invited \(role.rawValue)", email)
            return (staff, token)
        }
    }

    /// A fresh invitation link for an account whose owner has not chosen a password yet; the
    /// earlier links stop working.
    func reinvite(_ staff: Staff, by manager: Staff) async throws -> String {
        guard staff.passwordHash.isEmpty else {
            throw EditorialError.invalid(["email": "\(staff.email) has already chosen a password."])
        }
        return try await database.writeTransaction { db in
            try await StaffToken.query(on: db).filter(\.$staff.$id == staff.requireID()).filter(\.$purpose == .invitation).delete()
            let token = try await issue(.invitation, for: staff, on: db)
            try await AuditLog(database: db, now: now).record(manager.email, "resent invitation", staff.email)
            return token
        }
    }

    /// A reset link's token for the account with this address, or nil when there is no such
    /// account or it asked too often (the caller answers the same either way).
    func requestReset(email text: String) async throws -> (Staff, String)? {
        guard let email = EmailAddress.normalized(text),
              let staff = try await Staff.query(on: database).filter(\.$email == email).first(),
              !staff.passwordHash.isEmpty
        else { return nil }
        // Counted and issued in one turn, the staff member's row locked on PostgreSQL: requests
        // sent at once cannot all find the count under the limit.
        let token: String? = try await database.writeTransaction { db in
            let sql = db as! any SQLDatabase
            if sql.dialect.name == "postgresql" {
                try await sql.raw("SELECT id FROM \(ident: Staff.schema) WHERE id = \(bind: staff.requireID()) FOR UPDATE").run()
            }
            let recent = try await StaffToken.query(on: db).filter(\.$staff.$id == staff.requireID())
                .filter(\.$purpose == .reset).filter(\.$expiresAt > now).count()
            guard recent < Self.resetsPerHour else { return nil }
            return try await issue(.reset, for: staff, on: db)
        }
        return token.map { (staff, $0) }
    }

    /// The staff member a live link belongs to, without spending it.
    func holder(of token: String) async throws -> (Staff, StaffToken.Purpose)? {
        guard let record = try await StaffToken.query(on: database).filter(\.$tokenHash == SecretToken.digest(token))
            .filter(\.$expiresAt > now).with(\.$staff).first() else { return nil }
        return (record.staff, record.purpose)
    }

    /// Sets the password and spends every link of the account; a reset also signs the account
    /// out everywhere and lifts a lockout.
    func setPassword(token: String, password: String, hash: (String) async throws -> String) async throws -> Staff {
        guard password.count >= StaffAccounts.minimumPasswordLength else {
            throw EditorialError.invalid(["password": "Use at least \(StaffAccounts.minimumPasswordLength) characters."])
        }
        guard let (staff, _) = try await holder(of: token) else {
            throw EditorialError.invalid(["token": "This link has expired or was already used. Ask for a new one."])
        }
        let digest = try await hash(password)
        try await database.writeTransaction { db in
            let staffID = try staff.requireID()
            // Spending the link is its deletion: of two uses at once, on either database, the
            // second deletes nothing and is refused, as is a link that expired meanwhile.
            let spent = try await (db as! any SQLDatabase).delete(from: StaffToken.schema)
                .where("token_hash", .equal, SecretToken.digest(token)).where("expires_at", .greaterThan, SQLBind(Date()))
                .returning("id").all()
            guard spent.count == 1 else { throw EditorialError.invalid(["token": "This link was already used."]) }
            try await StaffToken.query(on: db).filter(\.$staff.$id == staffID).delete()
            try await StaffSession.query(on: db).filter(\.$staff.$id == staffID).delete()
            staff.passwordHash = digest
            try await staff.save(on: db)
            try await StaffSignInAttempts.query(on: db).filter(\.$email == staff.email).delete()
            try await AuditLog(database: db, now: now).record(staff.email, "set password", staff.email)
        }
        return staff
    }

    private func issue(_ purpose: StaffToken.Purpose, for staff: Staff, on db: any Database) async throws -> String {
        let token = SecretToken.generate()
        try await StaffToken(
            staffID: try staff.requireID(), tokenHash: SecretToken.digest(token),
            purpose: purpose, expiresAt: now.addingTimeInterval(purpose.lifetime)
        ).create(on: db)
        return token
    }
}
