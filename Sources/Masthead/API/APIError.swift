import Vapor

/// What an API client did wrong, with a stable code a program can test and a message a person
/// can read. `SiteErrorMiddleware` writes these (and every other error under `/api/`) as JSON.
public enum APIError: Error, Equatable {
    case missingKey
    case invalidKey
    /// A members or paid key sent in the query string rather than the `Authorization` header.
    case keyInQuery
    case missingToken
    case invalidToken
    /// The token lacks the scope the operation needs (RFC 6750 §3.1).
    case insufficientScope(String)
    case badParameter(name: String, message: String)
    case notFound
    case rateLimited(retryAfter: Int)
    /// The address exists, for other methods (RFC 9110 §15.5.6: answered with `Allow`).
    case methodNotAllowed(allowed: [String])

    public var status: HTTPResponseStatus {
        switch self {
        case .missingKey, .invalidKey, .keyInQuery, .missingToken, .invalidToken: .unauthorized
        case .insufficientScope: .forbidden
        case .badParameter: .badRequest
        case .notFound: .notFound
        case .rateLimited: .tooManyRequests
        case .methodNotAllowed: .methodNotAllowed
        }
    }

    public var code: String {
        switch self {
        case .missingKey: "missing_key"
        case .invalidKey: "invalid_key"
        case .keyInQuery: "key_in_query"
        case .missingToken: "missing_token"
        case .invalidToken: "invalid_token"
        case .insufficientScope: "insufficient_scope"
        case .badParameter: "bad_parameter"
        case .notFound: "not_found"
        case .rateLimited: "rate_limited"
        case .methodNotAllowed: "method_not_allowed"
        }
    }

    public var message: String {
        switch self {
        case .missingKey: "This API needs a key: send it as `Authorization: Bearer KEY` or as the `key` query parameter."
        case .invalidKey: "This key is not valid, or has been revoked."
        case .missingToken: "This API needs a staff token, sent as `Authorization: Bearer TOKEN`; make one under API tokens in the admin."
        case .invalidToken: "This token is not valid: unknown, expired or revoked."
        case .insufficientScope(let scope): "This token lacks the `\(scope)` scope this operation needs."
        case .keyInQuery: "This key reads members' or paid articles, so it may only be sent as `Authorization: Bearer KEY`, never in the address."
        case .badParameter(let name, let message): "`\(name)`: \(message)"
        case .notFound: "Nothing is published at this address."
        case .rateLimited(let seconds): "Too many requests with this key; try again in \(seconds) seconds."
        case .methodNotAllowed(let allowed): "This address answers \(allowed.joined(separator: ", ")) only."
        }
    }

    /// The JSON error document: `{"errors": [{"code": …, "message": …, "field": …}]}`, the field
    /// only for a problem with one field of a submitted article.
    static func body(_ errors: [(code: String, message: String, field: String?)]) -> String {
        let document = ["errors": errors.map { error -> [String: String] in
            var entry = ["code": error.code, "message": error.message]
            entry["field"] = error.field
            return entry
        }]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func body(code: String, message: String) -> String {
        body([(code, message, nil)])
    }
}
