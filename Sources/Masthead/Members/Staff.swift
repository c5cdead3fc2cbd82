import Fluent
import Foundation
import Vapor

/// What a staff member may do, from least to most: contributors write drafts, authors publish
/// their own, editors publish anyone's, admins manage staff and settings, the owner billing.
public enum StaffRole: String, Codable, CaseIterable, Sendable {
    case contributor, author, editor, admin, owner
}

/// A member of the newsroom's staff, who signs in to the admin with a password.
public final class Staff: Model, @unchecked Sendable {
    public static let schema = "staff"

    @ID(key: .id) public var id: UUID?
    @Field(key: "email") public var email: String
    @Field(key: "name") public var name: String
    @Enum(key: "role") public var role: StaffRole
    @Field(key: "password_hash") var passwordHash: String
    @OptionalField(key: "totp_secret") var totpSecret: String?
    @OptionalField(key: "totp_last_counter") var totpLastCounter: Int64?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    init(email: String, name: String, role: StaffRole, passwordHash: String) {
        self.email = email
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
    }
}

public enum StaffAccountError: Error, CustomStringConvertible, Equatable {
    case invalidEmail(String)
    case weakPassword
    case alreadyExists(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .notFound(let email): "there is no staff account for \(email)"
        case .invalidEmail(let email): "'\(email)' is not a valid email address"
        case .weakPassword: "the password must be at least \(StaffAccounts.minimumPasswordLength) characters long"
        case .alreadyExists(let email): "a staff account for \(email) already exists"
        }
    }
}

/// Creating staff accounts. Passwords are stored only as bcrypt hashes (cost 12).
public struct StaffAccounts: Sendable {
    public static let minimumPasswordLength = 12
    static let bcryptCost = 12
    let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    @discardableResult
    public func create(email text: String, name: String, role: StaffRole, password: String) async throws -> Staff {
        guard let email = EmailAddress.normalized(text) else { throw StaffAccountError.invalidEmail(text) }
        guard password.count >= Self.minimumPasswordLength else { throw StaffAccountError.weakPassword }
        if try await Staff.query(on: database).filter(\.$email == email).first() != nil {
            throw StaffAccountError.alreadyExists(email)
        }
        let staff = Staff(email: email, name: name.isEmpty ? email : name, role: role, passwordHash: try Bcrypt.hash(password, cost: Self.bcryptCost))
        do {
            try await staff.create(on: database)
        } catch {
            if (error as? any DatabaseError)?.isConstraintFailure == true { throw StaffAccountError.alreadyExists(email) }
            throw error
        }
        return staff
    }

    /// Recovery from the command line, for staff locked out of mail or of their authenticator:
    /// sets a new password, lifts a lockout, ends every session and spent link, and with
    /// `removeTwoStep` turns two-step sign-in off.
    @discardableResult
    public func resetPassword(email text: String, password: String, removeTwoStep: Bool) async throws -> Staff {
        guard let email = EmailAddress.normalized(text) else { throw StaffAccountError.invalidEmail(text) }
        guard password.count >= Self.minimumPasswordLength else { throw StaffAccountError.weakPassword }
        guard let staff = try await Staff.query(on: database).filter(\.$email == email).first() else {
            throw StaffAccountError.notFound(email)
        }
        let hash = try Bcrypt.hash(password, cost: Self.bcryptCost)
        try await database.writeTransaction { db in
            let id = try staff.requireID()
            staff.passwordHash = hash
            if removeTwoStep {
                staff.totpSecret = nil
                staff.totpLastCounter = nil
            }
            try await staff.save(on: db)
            try await StaffSession.query(on: db).filter(\.$staff.$id == id).delete()
            try await StaffToken.query(on: db).filter(\.$staff.$id == id).delete()
            try await StaffTokens.revokeAll(of: id, on: db)
            try await StaffSignInAttempts.query(on: db).filter(\.$email == email).delete()
            try await AuditLog(database: db, now: Date()).record("command line", removeTwoStep ? "reset password and two-step sign-in" : "reset password", email)
        }
        return staff
    }

    /// The demo's owner, created once with a random password that is returned to be shown.
    public func createDemoOwner() async throws -> (email: String, password: String)? {
        guard try await Staff.query(on: database).count() == 0 else { return nil }
        let password = SecretToken.generate().prefix(20)
        let owner = try await create(email: "owner@demo.masthead.test", name: "Demo Owner", role: .owner, password: String(password))
        return (owner.email, String(password))
    }

    /// Whether the password is this staff member's (used by the admin's sign-in).
    public func verify(_ password: String, for staff: Staff) throws -> Bool {
        try Bcrypt.verify(password, created: staff.passwordHash)
    }
}
