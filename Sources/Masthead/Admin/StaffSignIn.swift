import Fluent
import Foundation
import SQLKit
import Vapor

final class StaffSession: Model, @unchecked Sendable {
    static let schema = "staff_sessions"

    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Parent(key: "staff_id") var staff: Staff
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date

    init() {}

    init(tokenHash: String, staffID: UUID, createdAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.$staff.id = staffID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Password sign-in for staff: bcrypt verified off the event loop, five failures lock the
/// account for fifteen minutes, and the answer never says which of address or password was wrong.
struct StaffSignIn: Sendable {
    static let cookieName = "mh_staff"
    static let sessionLifetime: TimeInterval = 12 * 3600
    static let maximumFailures = 5
    static let lockout: TimeInterval = 15 * 60

    enum Outcome: Equatable {
        case signedIn(token: String)
        /// The password was right, but the account has two-step sign-in and the code was missing or wrong.
        case needsCode
        case refused
        case locked
    }

    let database: any Database
    let now: Date

    func signIn(email text: String, password: String, code: String? = nil, verify: (String, String) async throws -> Bool) async throws -> Outcome {
        guard let email = EmailAddress.normalized(text),
              let staff = try await Staff.query(on: database).filter(\.$email == email).first()
        else { return .refused }
        let staffID = try staff.requireID()
        // The attempt is counted before the password is checked, so guesses sent in parallel
        // cannot get past the limit while bcrypt runs.
        guard let attempt = try await claimAttempt(staffID) else { return .locked }
        if attempt > Self.maximumFailures { return try await lock(staffID) }
        // An invited account has no password until its owner sets one.
        guard !staff.passwordHash.isEmpty, try await verify(password, staff.passwordHash) else {
            return attempt == Self.maximumFailures ? try await lock(staffID) : .refused
        }
        if let secret = staff.totpSecret.flatMap(TOTP.init(base32:)) {
            guard let code, !code.isEmpty else { return .needsCode }
            guard let counter = secret.matchingCounter(for: code, at: now), try await spendCode(counter, staffID) else {
                return attempt == Self.maximumFailures ? try await lock(staffID) : .needsCode
            }
        }
        try await (database as! any SQLDatabase).update(Staff.schema)
            .set("failed_sign_ins", to: SQLBind(0)).set("locked_until", to: SQLLiteral.null)
            .where("id", .equal, SQLBind(staffID)).run()
        let token = SecretToken.generate()
        try await StaffSession(
            tokenHash: SecretToken.digest(token), staffID: staffID,
            createdAt: now, expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ).create(on: database)
        return .signedIn(token: token)
    }

    /// Counts one attempt unless the account is locked; returns the attempts counted so far.
    private func claimAttempt(_ staffID: UUID) async throws -> Int? {
        let rows = try await (database as! any SQLDatabase).update(Staff.schema)
            .set(SQLIdentifier("failed_sign_ins"), to: SQLBinaryExpression(SQLIdentifier("failed_sign_ins"), .add, SQLLiteral.numeric("1")))
            .where("id", .equal, SQLBind(staffID))
            .where { $0.where("locked_until", .is, SQLLiteral.null).orWhere("locked_until", .lessThanOrEqual, SQLBind(now)) }
            .returning("failed_sign_ins")
            .all()
        return try rows.first?.decode(column: "failed_sign_ins", as: Int.self)
    }

    private func lock(_ staffID: UUID) async throws -> Outcome {
        try await (database as! any SQLDatabase).update(Staff.schema)
            .set("locked_until", to: SQLBind(now.addingTimeInterval(Self.lockout))).set("failed_sign_ins", to: SQLBind(0))
            .where("id", .equal, SQLBind(staffID)).run()
        return .locked
    }

    /// Moves the last used TOTP step forward, atomically, so one code signs in once.
    private func spendCode(_ counter: Int64, _ staffID: UUID) async throws -> Bool {
        let rows = try await (database as! any SQLDatabase).update(Staff.schema)
            .set("totp_last_counter", to: SQLBind(counter))
            .where("id", .equal, SQLBind(staffID))
            .where { $0.where("totp_last_counter", .is, SQLLiteral.null).orWhere("totp_last_counter", .lessThan, SQLBind(counter)) }
            .returning("id")
            .all()
        return !rows.isEmpty
    }

    func staff(forToken token: String) async throws -> Staff? {
        try await StaffSession.query(on: database)
            .filter(\.$tokenHash == SecretToken.digest(token)).filter(\.$expiresAt > now)
            .with(\.$staff).first()?.staff
    }

    func signOut(token: String) async throws {
        try await StaffSession.query(on: database).filter(\.$tokenHash == SecretToken.digest(token)).delete()
    }
}
