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

final class StaffSignInAttempts: Model, @unchecked Sendable {
    static let schema = "staff_sign_in_attempts"

    @ID(key: .id) var id: UUID?
    @Parent(key: "staff_id") var staff: Staff
    @Field(key: "client_address") var clientAddress: String
    @Field(key: "failures") var failures: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?

    init() {}
}

/// Password sign-in for staff: bcrypt verified off the event loop, and the answer never says
/// which of address or password was wrong, in words or in time. Five failures from one client
/// address lock that address out of that account for fifteen minutes; the account's owner,
/// signing in from elsewhere, is not locked out by a stranger's guesses.
struct StaffSignIn: Sendable {
    static let cookieName = "mh_staff"
    static let sessionLifetime: TimeInterval = 12 * 3600
    static let maximumFailures = 5
    static let lockout: TimeInterval = 15 * 60
    /// Checked when there is no password to check, so that an unknown address or an account
    /// still waiting for its first password takes as long to refuse as a wrong password.
    private static let decoyHash = try! Bcrypt.hash(SecretToken.generate(), cost: StaffAccounts.bcryptCost)

    enum Outcome: Equatable {
        case signedIn(token: String)
        /// The password was right, but the account has two-step sign-in and the code was missing or wrong.
        case needsCode
        case refused
        case locked
    }

    let database: any Database
    let now: Date

    func signIn(
        email text: String, password: String, code: String? = nil, clientAddress: String,
        verify: (String, String) async throws -> Bool
    ) async throws -> Outcome {
        guard let email = EmailAddress.normalized(text),
              let staff = try await Staff.query(on: database).filter(\.$email == email).first()
        else {
            _ = try await verify(password, Self.decoyHash)
            return .refused
        }
        let staffID = try staff.requireID()
        // The attempt is counted before the password is checked, so guesses sent in parallel
        // cannot get past the limit while bcrypt runs.
        guard let attempt = try await claimAttempt(staffID, clientAddress) else { return .locked }
        if attempt > Self.maximumFailures { return try await lock(staffID, clientAddress) }
        // An invited account has no password until its owner sets one.
        let passwordMatches = try await verify(password, staff.passwordHash.isEmpty ? Self.decoyHash : staff.passwordHash)
        guard passwordMatches, !staff.passwordHash.isEmpty else {
            return attempt == Self.maximumFailures ? try await lock(staffID, clientAddress) : .refused
        }
        if let secret = staff.totpSecret.flatMap(TOTP.init(base32:)) {
            guard let code, !code.isEmpty else { return .needsCode }
            guard let counter = secret.matchingCounter(for: code, at: now), try await spendCode(counter, staffID) else {
                return attempt == Self.maximumFailures ? try await lock(staffID, clientAddress) : .needsCode
            }
        }
        try await StaffSignInAttempts.query(on: database)
            .filter(\.$staff.$id == staffID).filter(\.$clientAddress == clientAddress).delete()
        let token = SecretToken.generate()
        try await StaffSession(
            tokenHash: SecretToken.digest(token), staffID: staffID,
            createdAt: now, expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ).create(on: database)
        return .signedIn(token: token)
    }

    /// Counts one attempt from this client unless it is locked out; returns the attempts
    /// counted so far. The row is made first if missing, then counted with one conditional
    /// UPDATE, so parallel attempts each see their own number.
    private func claimAttempt(_ staffID: UUID, _ clientAddress: String) async throws -> Int? {
        let sql = database as! any SQLDatabase
        try await sql.insert(into: StaffSignInAttempts.schema)
            .columns("id", "staff_id", "client_address", "failures", "locked_until")
            .values(SQLBind(UUID()), SQLBind(staffID), SQLBind(clientAddress), SQLBind(0), SQLLiteral.null)
            .ignoringConflicts(with: ["staff_id", "client_address"])
            .run()
        let rows = try await sql.update(StaffSignInAttempts.schema)
            .set(SQLIdentifier("failures"), to: SQLBinaryExpression(SQLIdentifier("failures"), .add, SQLLiteral.numeric("1")))
            .where("staff_id", .equal, SQLBind(staffID))
            .where("client_address", .equal, SQLBind(clientAddress))
            .where { $0.where("locked_until", .is, SQLLiteral.null).orWhere("locked_until", .lessThanOrEqual, SQLBind(now)) }
            .returning("failures")
            .all()
        return try rows.first?.decode(column: "failures", as: Int.self)
    }

    private func lock(_ staffID: UUID, _ clientAddress: String) async throws -> Outcome {
        try await (database as! any SQLDatabase).update(StaffSignInAttempts.schema)
            .set("locked_until", to: SQLBind(now.addingTimeInterval(Self.lockout))).set("failures", to: SQLBind(0))
            .where("staff_id", .equal, SQLBind(staffID))
            .where("client_address", .equal, SQLBind(clientAddress))
            .run()
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

    /// Whether a request to the admin carries a live staff session, which alone earns the large
    /// body allowance of an image upload. Asked by the edge before the body is read.
    static func mayUpload(uri: String, headers: HTTPHeaders, database: any Database) async -> Bool {
        guard uri.hasPrefix("/admin/"), let token = headers.cookie?[cookieName]?.string, token.count < 100 else {
            return false
        }
        return (try? await StaffSignIn(database: database, now: Date()).staff(forToken: token)) != nil
    }

    func signOut(token: String) async throws {
        try await StaffSession.query(on: database).filter(\.$tokenHash == SecretToken.digest(token)).delete()
    }
}
