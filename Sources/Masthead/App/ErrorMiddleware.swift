import Foundation
import Vapor

/// The one place errors become responses: a readable page in the reader's edition with the right
/// status, details in the log only. Unknown errors are a 500 whose text reveals nothing.
///
/// Written against futures rather than async/await, like the other middleware on every request,
/// so that a cached page passes through without a task being started for it.
struct SiteErrorMiddleware: Middleware {
    let pages: SitePages
    let editions: EditionCatalog
    let apiMethods: APIMethods

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            response(for: error, request: request)
        }
    }

    private func response(for error: any Error, request: Request) -> Response {
        if case SiteError.movedPermanently(let location) = error {
            return request.redirect(to: location, redirectType: .permanent)
        }
        let (status, message) = classify(error)
        if status.code >= 500 {
            request.logger.error("request.failed", metadata: ["path": "\(request.url.path)", "error": "\(String(reflecting: error))"])
        } else {
            request.logger.debug("request.rejected", metadata: ["path": "\(request.url.path)", "status": "\(status.code)"])
        }
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        if request.url.path.hasPrefix(APIPaths.root) {
            // The router answers 404 for an address it has under another method.
            if status == .notFound, (error as? any AbortError)?.status == .notFound, !(error is APIError), !(error is EditorialError),
               let allowed = apiMethods.allowed(for: request.url.path) {
                return apiResponse(for: APIError.methodNotAllowed(allowed: allowed), status: .methodNotAllowed, headers: headers)
            }
            return apiResponse(for: error, status: status, headers: headers)
        }
        let edition = editions.edition(forPath: request.url.path)
        if let html = try? pages.errorPage(status: Int(status.code), messageKey: message, edition: edition) {
            headers.replaceOrAdd(name: .contentType, value: "text/html; charset=utf-8")
            return Response(status: status, headers: headers, body: .init(string: html))
        }
        headers.replaceOrAdd(name: .contentType, value: "text/plain; charset=utf-8")
        return Response(status: status, headers: headers, body: .init(string: "\(status.code) \(status.reasonPhrase)\n"))
    }

    /// API clients get JSON: the error's stable code and message, or the status's own for errors
    /// that are not the API's (an unknown address, a body too large).
    private func apiResponse(for error: any Error, status: HTTPResponseStatus, headers: HTTPHeaders) -> Response {
        var headers = headers
        headers.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
        ContentCORS.apply(&headers)
        let body: String
        if let error = error as? APIError {
            switch error {
            case .rateLimited(let seconds): headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
            case .methodNotAllowed(let allowed): headers.replaceOrAdd(name: .allow, value: allowed.joined(separator: ", "))
            case .invalidToken: headers.replaceOrAdd(name: .wwwAuthenticate, value: #"Bearer error="invalid_token""#)
            case .insufficientScope(let scope): headers.replaceOrAdd(name: .wwwAuthenticate, value: #"Bearer error="insufficient_scope", scope=""# + scope + #"""#)
            default: break
            }
            body = APIError.body(code: error.code, message: error.message)
        } else if case EditorialError.invalid(let problems) = error {
            body = APIError.body(problems.sorted { $0.key < $1.key }.map { ("invalid", $0.value, $0.key) })
        } else if case EditorialError.forbidden = error {
            body = APIError.body(code: "forbidden", message: "Your role does not allow this, for this article.")
        } else if let problem = error as? MediaLibrary.Problem {
            body = APIError.body(code: "invalid_image", message: problem.description)
        } else if status == .notFound {
            body = APIError.body(code: APIError.notFound.code, message: APIError.notFound.message)
        } else {
            let code = status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            body = APIError.body(code: code, message: status.code >= 500 ? "Something went wrong on our side; it has been logged." : status.reasonPhrase + ".")
        }
        return Response(status: status, headers: headers, body: .init(string: body))
    }

    /// The status and, for errors the reader caused, the translation key of a message that helps them.
    private func classify(_ error: any Error) -> (HTTPResponseStatus, String?) {
        switch error {
        case let error as SiteError:
            switch error {
            case .badRequest(let key), .forbidden(let key), .badGateway(let key): return (error.status, key)
            case .notFound, .movedPermanently: return (error.status, nil)
            }
        case let error as APIError:
            return (error.status, nil)
        case let error as EditorialError:
            return (error.status, error.messageKey)
        case is MediaLibrary.Problem:
            return (.unprocessableEntity, nil)
        case let abort as any AbortError where abort.status.code < 500:
            return (abort.status, nil)
        case is DecodingError:
            return (.badRequest, nil)
        default:
            return (.internalServerError, nil)
        }
    }
}

/// Headers every response carries (OWASP secure headers): no sniffing, no framing, no inline
/// script, and referrers trimmed to the origin when leaving the site. Forms post only here,
/// but may be redirected on to Stripe's checkout and billing portal (browsers apply
/// `form-action` to a form's redirects too).
struct SecurityHeadersMiddleware: Middleware {
    private static let headers: [(HTTPHeaders.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self' https://checkout.stripe.com https://billing.stripe.com; frame-ancestors 'none'"),
        (.xContentTypeOptions, "nosniff"),
        (.xFrameOptions, "DENY"),
        (HTTPHeaders.Name("Referrer-Policy"), "strict-origin-when-cross-origin"),
    ]

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).map { response in
            Self.apply(to: &response.headers)
            return response
        }
    }

    /// Appended without a search: nothing else in Masthead sets these headers.
    static func apply(to headers: inout HTTPHeaders) {
        for (name, value) in Self.headers {
            headers.add(name: name, value: value)
        }
    }
}
