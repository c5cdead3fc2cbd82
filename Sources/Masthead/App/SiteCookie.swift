import Foundation
import Vapor

/// Every cookie Masthead sets: HttpOnly always, Secure whenever the site is served over https
/// (its public URL says so, or a trusted proxy says the request came over https), and cleared with an expiry in the past as well as Max-Age 0, for old browsers.
extension Settings {
    func cookie(_ value: String, for request: Request, path: String = "/", maxAge: Int?, sameSite: HTTPCookies.SameSitePolicy = .lax) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, expires: maxAge == 0 ? Date(timeIntervalSince1970: 0) : nil, maxAge: maxAge, path: path,
            isSecure: publicURL.hasPrefix("https://") || request.remoteClient.isHTTPS, isHTTPOnly: true, sameSite: sameSite
        )
    }
}
