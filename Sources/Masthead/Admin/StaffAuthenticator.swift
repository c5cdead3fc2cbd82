import Fluent
import Foundation
import Vapor

/// Guards every admin page behind a staff session (`FormProtection` has already checked that a
/// post carries a token this browser was given).
struct StaffAuthenticator: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = req.cookies[StaffSignIn.cookieName]?.string, token.count < 100,
              let staff = try await StaffSignIn(database: req.db, now: Date()).staff(forToken: token)
        else { return req.redirect(to: AdminURL.signIn, redirectType: .normal) }
        req.storage[StaffKey.self] = .init(staff: staff, token: token)
        return try await next.respond(to: req)
    }
}

private struct StaffKey: StorageKey {
    struct Value {
        let staff: Staff
        let token: String
    }
}

extension Request {
    /// The signed-in staff member, on pages behind `StaffAuthenticator`.
    var staff: Staff? { storage[StaffKey.self]?.staff }

    var staffSessionToken: String? { storage[StaffKey.self]?.token }

    func requireStaff() throws -> Staff {
        guard let staff else { throw SiteError.forbidden(messageKey: "error_staff_role") }
        return staff
    }

    /// The record a path such as `/admin/staff/:id` names, or a 404.
    func record<M: Model>(_ type: M.Type, at parameter: String = "id") async throws -> M where M.IDValue == UUID {
        guard let id = parameters.get(parameter, as: UUID.self), let record = try await M.find(id, on: db) else {
            throw SiteError.notFound
        }
        return record
    }

    /// The staff member, if their role has the power; else the request is refused.
    func requireStaff(_ power: StaffPolicy.Power) throws -> Staff {
        let staff = try requireStaff()
        guard StaffPolicy.may(staff.role, power) else { throw EditorialError.forbidden }
        return staff
    }
}
