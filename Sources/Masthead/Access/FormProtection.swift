import Vapor

/// The one cross-site request forgery check, run on every request that can change something
/// (every method but GET, HEAD and OPTIONS), before any route sees it: the `Origin`, when sent,
/// must be this site's, and the request must carry a token (the `csrf` form field or the
/// `X-CSRF-Token` header) signed for one of this browser's own secret cookies. A page on another
/// site can read none of them, so it can make none of the tokens. Routes never check for
/// themselves; the only exceptions, and the forms that rely on the `Origin` alone, are listed here.
struct FormProtection: AsyncMiddleware {
    let csrf: CSRF

    /// Paths whose requests prove where they come from by a signature of their own: a payment
    /// provider's webhook, a newsletter's signed one-click unsubscribe link (RFC 8058: the
    /// mail client posts to it with no cookie), and the APIs, which read no cookie: the Admin
    /// API acts only on a bearer token that another site's page cannot attach, and the Content
    /// API changes nothing (other methods are answered 405).
    static let signedElsewhere = ["/webhooks/", NewsletterLinks.unsubscribePrefix, APIPaths.adminPrefix + "/", APIPaths.contentPrefix + "/"]

    /// Forms shown on cached pages, which can carry no per-reader token: a request to them must
    /// name this site as its `Origin` (every browser sends it with a form's POST).
    static let originOnly = [NewsletterLinks.subscribe, PushController.subscriptions, PushController.unsubscribe]

    /// The cookies a form's token may be bound to: the staff session (sent only under /admin),
    /// the reader's session, and the pre-session cookie of a browser not signed in.
    static let bindingCookies = [StaffSignIn.cookieName, MemberSessions.cookieName, CSRF.cookieName]

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard changesState(req), !Self.signedElsewhere.contains(where: req.url.path.hasPrefix) else {
            return try await next.respond(to: req)
        }
        if Self.originOnly.contains(req.url.path) {
            guard req.headers.first(name: .origin) != nil, csrf.originIsAcceptable(req) else { throw SiteError.forbidden(messageKey: "error_csrf") }
            return try await next.respond(to: req)
        }
        let submitted = req.headers.first(name: "X-CSRF-Token") ?? (try? req.content.get(String.self, at: CSRF.fieldName))
        let bindings = Self.bindingCookies.compactMap { req.cookies[$0]?.string }.filter { $0.count < 100 }
        guard csrf.originIsAcceptable(req), bindings.contains(where: { csrf.isValid(submitted, binding: $0) }) else {
            throw SiteError.forbidden(messageKey: "error_csrf")
        }
        return try await next.respond(to: req)
    }

    private func changesState(_ req: Request) -> Bool {
        ![.GET, .HEAD, .OPTIONS].contains(req.method)
    }
}
