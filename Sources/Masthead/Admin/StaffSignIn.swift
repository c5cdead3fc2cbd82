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
    @Field(key: "email") var email: String
    @Field(key: "client_address") var clientAddress: String
    @Field(key: "attempts") var attempts: Int
    @Field(key: "last_attempt_at") var lastAttemptAt: Date
    @OptionalField(key: "locked_until") var lockedUntil: Date?

    init() {}
}

/// Password sign-in for staff: bcrypt verified off the event loop, and the answer never says
/// which of address or password was wrong, in words or in time. Attempts are counted per
/// address typed and client, whether or not the address has an account: five within fifteen
/// minutes lock that client out of that address for fifteen minutes, so the account's owner,
/// signing in from elsewhere, is never locked out by a stranger, and a lockout tells nobody
/// that an account exists.
struct StaffSignIn: Sendable {
    static let cookieName = "mh_staff"
    static let sessionLifetime: TimeInterval = 12 * 3600
    static let maximumFailures = 5
    static let lockout: TimeInterval = 15 * 60
    /// Checked when there is no password to check, so that an unknown address, an account
    /// still waiting for its first password, or a locked-out client takes as long to refuse
    /// as a wrong password.
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
        let email = EmailAddress.normalized(text) ?? String(text.lowercased().prefix(200))
        // The attempt is counted before the password is checked, so guesses sent in parallel
        // cannot get past the limit while bcrypt runs.
        let attempt = try await claimAttempt(email, clientAddress)
        let staff = try await Staff.query(on: database).filter(\.$email == email).first()
        let hash = staff.map(\.passwordHash).flatMap { $0.isEmpty ? nil : $0 }
        // Past the limit the guess is checked against the decoy: it costs the same, tests nothing.
        let mayGuess = attempt.map { $0 <= Self.maximumFailures } ?? false
        let passwordMatches = try await verify(password, (mayGuess ? hash : nil) ?? Self.decoyHash)
        guard let attempt else { return .locked }
        if attempt > Self.maximumFailures { return try await lock(email, clientAddress) }
        guard passwordMatches, hash != nil, let staff else {
            return attempt == Self.maximumFailures ? try await lock(email, clientAddress) : .refused
        }
        let staffID = try staff.requireID()
        if let secret = staff.totpSecret.flatMap(TOTP.init(base32:)) {
            guard let code, !code.isEmpty else { return .needsCode }
            guard let counter = secret.matchingCounter(for: code, at: now), try await spendCode(counter, staffID) else {
                return attempt == Self.maximumFailures ? try await lock(email, clientAddress) : .needsCode
            }
        }
        try await StaffSignInAttempts.query(on: database)
            .filter(\.$email == email).filter(\.$clientAddress == clientAddress).delete()
        let token = SecretToken.generate()
        try await StaffSession(
            tokenHash: SecretToken.digest(token), staffID: staffID,
            createdAt: now, expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ).create(on: database)
        return .signedIn(token: token)
    }

    /// Counts one attempt from this client at this address unless it is locked out; returns the
    /// attempts counted in the current window, which starts again after fifteen quiet minutes.
    /// The row is made first if missing, then counted with one conditional UPDATE, so parallel
    /// attempts each see their own number.
    private func claimAttempt(_ email: String, _ clientAddress: String) async throws -> Int? {
        let sql = database as! any SQLDatabase
        try await sql.insert(into: StaffSignInAttempts.schema)
            .columns("id", "email", "client_address", "attempts", "last_attempt_at", "locked_until")
            .values(SQLBind(UUID()), SQLBind(email), SQLBind(clientAddress), SQLBind(0), SQLBind(now), SQLLiteral.null)
            .ignoringConflicts(with: ["email", "client_address"])
            .run()
        let windowStart = now.addingTimeInterval(-Self.lockout)
        let rows = try await sql.update(StaffSignInAttempts.schema)
            .set(SQLIdentifier("attempts"), to: SQLQueryString("CASE WHEN last_attempt_at < \(bind: windowStart) THEN 1 ELSE attempts + 1 END"))
            .set("last_attempt_at", to: SQLBind(now))
            .where("email", .equal, SQLBind(email))
            .where("client_address", .equal, SQLBind(clientAddress))
            .where { $0.where("locked_until", .is, SQLLiteral.null).orWhere("locked_until", .lessThanOrEqual, SQLBind(now)) }
            .returning("attempts")
            .all()
        return try rows.first?.decode(column: "attempts", as: Int.self)
    }

    private func lock(_ email: String, _ clientAddress: String) async throws -> Outcome {
        try await (database as! any SQLDatabase).update(StaffSignInAttempts.schema)
            .set("locked_until", to: SQLBind(now.addingTimeInterval(Self.lockout))).set("attempts", to: SQLBind(0))
            .where("email", .equal, SQLBind(email))
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
        guard uri.hasPrefix(AdminURL.root + "/"), let token = headers.cookie?[cookieName]?.string, token.count < 100 else {
            return false
        }
        return (try? await StaffSignIn(database: database, now: Date()).staff(forToken: token)) != nil
    }

    func signOut(token: String) async throws {
        try await StaffSession.query(on: database).filter(\.$tokenHash == SecretToken.digest(token)).delete()
    }
}
