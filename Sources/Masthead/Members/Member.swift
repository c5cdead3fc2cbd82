import Fluent
import Foundation

/// A reader with an account. Members sign in by emailed link; they have no password.
public final class Member: Model, @unchecked Sendable {
    public static let schema = "members"

    @ID(key: .id) public var id: UUID?
    @Field(key: "email") public var email: String
    @Field(key: "name") public var name: String
    /// Until when the member may read paid articles. Billing sets it; nothing else decides it.
    @OptionalField(key: "paid_until") public var paidUntil: Date?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?

    public init() {}

    public init(email: String, name: String) {
        self.email = email
        self.name = name
    }

    public func viewer(at now: Date) -> Viewer {
        Self.viewer(paidUntil: paidUntil, at: now)
    }

    /// The same decision from the one column it rests on, for code that reads members in bulk.
    static func viewer(paidUntil: Date?, at now: Date) -> Viewer {
        if let paidUntil, paidUntil > now { return .paidMember }
        return .freeMember
    }
}

/// A single-use sign-in (or account-deletion) link. Only the SHA-256 of its token is stored.
final class LoginToken: Model, @unchecked Sendable {
    static let schema = "login_tokens"

    enum Purpose: String, Codable {
        case signIn = "sign_in"
        case deleteAccount = "delete_account"
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Enum(key: "purpose") var purpose: Purpose
    @Field(key: "email") var email: String
    @Field(key: "name") var name: String
    @Field(key: "return_path") var returnPath: String
    @Field(key: "edition") var edition: String
    @Field(key: "client_address") var clientAddress: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "used_at") var usedAt: Date?

    init() {}
}

/// A signed-in browser. The cookie holds a random token; the database holds only its hash,
/// so a leaked database cannot be replayed as cookies.
final class MemberSession: Model, @unchecked Sendable {
    static let schema = "sessions"

    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @Parent(key: "member_id") var member: Member
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date

    init() {}

    init(tokenHash: String, memberID: UUID, createdAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.$member.id = memberID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
