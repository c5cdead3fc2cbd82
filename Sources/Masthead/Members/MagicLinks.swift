import Fluent
import Foundation
import SQLKit

/// Sign-in (and account deletion) by emailed link: a single-use token of 32 random bytes,
/// stored only as its SHA-256, valid for 15 minutes, and rate-limited per address and per
/// client so that the form cannot be used to flood an inbox or probe for accounts.
public struct MagicLinks: Sendable {
    public static let lifetime: TimeInterval = 15 * 60
    static let perAddressPerHour = 5
    static let perClientPerHour = 30

    public enum Outcome: Sendable, Equatable {
        case sent
        case rateLimited
    }

    public enum RedeemFailure: Error, Equatable {
        case unknown
        case used
        case expired
    }

    struct Request {
        let email: String
        let name: String
        let purpose: LoginToken.Purpose
        let returnPath: String
        let edition: Edition
        let clientAddress: String
    }

    struct Redeemed {
        let email: String
        let name: String
        let returnPath: String
        let edition: String
    }

    let database: any Database
    let mail: MemberMail
    let now: Date

    /// Creates a token and emails its link. The outcome never says whether the address has an
    /// account: a new address gets the same email, and following it creates the account.
    func request(_ request: Request) async throws -> Outcome {
        let hourAgo = now.addingTimeInterval(-3600)
        let byAddress = try await LoginToken.query(on: database)
            .filter(\.$email == request.email).filter(\.$createdAt > hourAgo).count()
        let byClient = try await LoginToken.query(on: database)
            .filter(\.$clientAddress == request.clientAddress).filter(\.$createdAt > hourAgo).count()
        guard byAddress < Self.perAddressPerHour, byClient < Self.perClientPerHour else { return .rateLimited }

        let token = SecretToken.generate()
        let record = LoginToken()
        record.tokenHash = SecretToken.digest(token)
        record.purpose = request.purpose
        record.email = request.email
        record.name = request.name
        record.returnPath = request.returnPath
        record.edition = request.edition.code
        record.clientAddress = request.clientAddress
        record.createdAt = now
        record.expiresAt = now.addingTimeInterval(Self.lifetime)
        try await record.create(on: database)
        do {
            try await mail.sendLink(token: token, purpose: request.purpose, to: request.email, name: request.name, edition: request.edition)
        } catch {
            // An email that never left must not count against the reader's allowance.
            try? await record.delete(on: database)
            throw error
        }
        return .sent
    }

    /// Marks the token used, atomically: of two simultaneous clicks, exactly one succeeds.
    func redeem(token: String, purpose: LoginToken.Purpose) async throws -> Redeemed {
        let digest = SecretToken.digest(token)
        let sql = database as! any SQLDatabase
        let rows = try await sql.update(LoginToken.schema)
            .set("used_at", to: SQLBind(now))
            .where("token_hash", .equal, SQLBind(digest))
            .where("purpose", .equal, SQLBind(purpose.rawValue))
            .where("used_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, SQLBind(now))
            .returning("email", "name", "return_path", "edition")
            .all()
        if let row = rows.first {
            return Redeemed(
                email: try row.decode(column: "email", as: String.self),
                name: try row.decode(column: "name", as: String.self),
                returnPath: try row.decode(column: "return_path", as: String.self),
                edition: try row.decode(column: "edition", as: String.self)
            )
        }
        guard let existing = try await LoginToken.query(on: database)
            .filter(\.$tokenHash == digest).filter(\.$purpose == purpose).first()
        else { throw RedeemFailure.unknown }
        throw existing.usedAt != nil ? RedeemFailure.used : RedeemFailure.expired
    }

    /// Looks a token up without using it, for the confirmation page a link opens.
    func isRedeemable(token: String, purpose: LoginToken.Purpose) async throws -> Result<String, RedeemFailure> {
        guard let existing = try await LoginToken.query(on: database)
            .filter(\.$tokenHash == SecretToken.digest(token)).filter(\.$purpose == purpose).first()
        else { return .failure(.unknown) }
        if existing.usedAt != nil { return .failure(.used) }
        if existing.expiresAt <= now { return .failure(.expired) }
        return .success(existing.email)
    }
}
