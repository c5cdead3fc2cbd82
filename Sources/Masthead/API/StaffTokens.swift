import Fluent
import Foundation
import NIOHTTP1

/// What a staff token lets a tool do, on top of what the staff member's role allows.
public enum AdminAPIScope: String, CaseIterable, Codable, Sendable {
    case articlesRead = "articles:read"
    case articlesWrite = "articles:write"
    case articlesPublish = "articles:publish"
    case mediaWrite = "media:write"
}

/// A staff member's token for the Admin API. Its requests act as that staff member, with that
/// member's role as it is now, narrowed to the token's scopes, until it expires or is revoked.
public final class StaffAPIToken: Model, @unchecked Sendable {
    public static let schema = "staff_api_tokens"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "staff_id") var staff: Staff
    @Field(key: "name") public var name: String
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "token_hint") public var tokenHint: String
    /// Space-separated, as OAuth writes scopes (RFC 6749 §3.3).
    @Field(key: "scopes") var scopeList: String
    @Field(key: "expires_at") public var expiresAt: Date
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @OptionalField(key: "revoked_at") public var revokedAt: Date?

    public init() {}

    public var scopes: Set<AdminAPIScope> {
        Set(scopeList.split(separator: " ").compactMap { AdminAPIScope(rawValue: String($0)) })
    }
}

/// Making, checking and revoking staff tokens.
public enum StaffTokens {
    static let prefix = "mht_"
    /// How long a token may live, in days: a lost one stops working on its own.
    public static let lifetimes = [7, 30, 90, 365]

    public static func create(
        for staff: Staff, name: String, scopes: Set<AdminAPIScope>, days: Int, on database: any Database, now: Date = Date()
    ) async throws -> (StaffAPIToken, secret: String) {
        let secret = prefix + SecretToken.generate()
        let token = StaffAPIToken()
        token.$staff.id = try staff.requireID()
        token.name = name
        token.tokenHash = SecretToken.digest(secret)
        token.tokenHint = String(secret.suffix(4))
        token.scopeList = AdminAPIScope.allCases.filter(scopes.contains).map(\.rawValue).joined(separator: " ")
        token.expiresAt = now.addingTimeInterval(TimeInterval(days) * 86_400)
        try await token.create(on: database)
        return (token, secret)
    }

    /// The staff member, scopes and name of a live token, or nil.
    static func authenticate(_ secret: String, on database: any Database, now: Date = Date()) async throws -> (staff: Staff, scopes: Set<AdminAPIScope>, name: String)? {
        guard secret.hasPrefix(prefix), secret.utf8.count < 100 else { return nil }
        guard let token = try await StaffAPIToken.query(on: database)
            .filter(\.$tokenHash == SecretToken.digest(secret)).filter(\.$revokedAt == nil).filter(\.$expiresAt > now)
            .with(\.$staff).first()
        else { return nil }
        return (token.staff, token.scopes, token.name)
    }

    /// Whether a request's token holds a scope: asked by the front server before it accepts a
    /// body larger than a form's (an image, a long article).
    static func holds(_ scope: AdminAPIScope, headers: HTTPHeaders, database: any Database) async -> Bool {
        guard let value = headers.first(name: .authorization), value.lowercased().hasPrefix("bearer "),
              let (_, scopes, _) = try? await authenticate(String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces), on: database)
        else { return false }
        return scopes.contains(scope)
    }

    /// Every live token of a staff member: when their password changes or is reset, so that a
    /// token made by someone who had taken over the account stops with the old password.
    static func revokeAll(of staffID: UUID, on database: any Database, now: Date = Date()) async throws {
        try await StaffAPIToken.query(on: database)
            .filter(\.$staff.$id == staffID).filter(\.$revokedAt == nil)
            .set(\.$revokedAt, to: now)
            .update()
    }

    public static func revoke(_ token: StaffAPIToken, on database: any Database, now: Date = Date()) async throws {
        token.revokedAt = now
        try await token.save(on: database)
    }
}
