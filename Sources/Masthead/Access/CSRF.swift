import Crypto
import Foundation
import Vapor

/// Cross-site request forgery protection for every state-changing form (OWASP: synchroniser
/// token, signed and bound to the browser): the token is an HMAC of the session token, or of a
/// random pre-session cookie for readers not signed in, and the `Origin` header, when sent,
/// must be this site's.
struct CSRF: Sendable {
    static let fieldName = "csrf"
    static let cookieName = "mh_csrf"

    let key: SymmetricKey
    let siteOrigin: String

    func token(for binding: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data("csrf:\(binding)".utf8), using: key)).base64URLEncoded()
    }

    func isValid(_ submitted: String?, binding: String?) -> Bool {
        guard let submitted, let binding, !binding.isEmpty else { return false }
        let expected = token(for: binding)
        return ConstantTime.equal(submitted, expected)
    }

    /// RFC 6454 origin of the request's page, when the browser says it. Absent is allowed: the
    /// token already proves the form came from us; a foreign origin is refused outright.
    func originIsAcceptable(_ request: Request) -> Bool {
        guard let origin = request.headers.first(name: .origin) else { return true }
        return origin == siteOrigin || origin == "http://\(request.headers.first(name: .host) ?? "")"
            || origin == "https://\(request.headers.first(name: .host) ?? "")"
    }
}

extension CSRF {
    /// What a new form's token is bound to: the session when signed in, else the browser's
    /// pre-session cookie, with a fresh one to set when it has none yet.
    func binding(for req: Request, session: String?) -> (binding: String, newCookie: String?) {
        if let session { return (session, nil) }
        if let existing = req.cookies[Self.cookieName]?.string, existing.count >= 32, existing.count < 100 { return (existing, nil) }
        let fresh = SecretToken.generate()
        return (fresh, fresh)
    }
}
