import Fluent
import Foundation
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
        if let lockedUntil = staff.lockedUntil, lockedUntil > now { return .locked }
        // An invited account has no password until its owner sets one.
        guard !staff.passwordHash.isEmpty, try await verify(password, staff.passwordHash) else {
            return try await fail(staff)
        }
        if let secret = staff.totpSecret.flatMap(TOTP.init(base32:)) {
            guard let code, !code.isEmpty else { return .needsCode }
            guard let counter = secret.matchingCounter(for: code, at: now), counter > staff.totpLastCounter ?? -1 else {
                let outcome = try await fail(staff)
                return outcome == .locked ? .locked : .needsCode
            }
            staff.totpLastCounter = counter
        }
        staff.failedSignIns = 0
        staff.lockedUntil = nil
        try await staff.save(on: database)
        let token = SecretToken.generate()
        try await StaffSession(
            tokenHash: SecretToken.digest(token), staffID: try staff.requireID(),
            createdAt: now, expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ).create(on: database)
        return .signedIn(token: token)
    }

    private func fail(_ staff: Staff) async throws -> Outcome {
        staff.failedSignIns += 1
        if staff.failedSignIns >= Self.maximumFailures {
            staff.lockedUntil = now.addingTimeInterval(Self.lockout)
            staff.failedSignIns = 0
        }
        try await staff.save(on: database)
        return staff.lockedUntil.map { $0 > now } == true ? .locked : .refused
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
