import Fluent
import Foundation
import Vapor

/// `/api/content/v1/`: read-only JSON for apps, widgets and partners. Every request names its
/// integration's key; answers are kept in the page cache per access level and query, carry a
/// strong ETag (304 on a match), and may be read from any origin (CORS), as no cookie is used.
struct ContentAPIController: Sendable {
    /// Failed key lookups a client may make per minute: guessing keys costs a database read each.
    static let failedKeysPerMinute = 30

    let keys: APIKeys
    let limiter: APIRateLimiter
    /// Failed key lookups, by client address.
    let failures: APIRateLimiter
    let cache: PageCache
    let settings: Settings
    let editions: EditionCatalog
    let catalog: SearchCatalog

    func register(on routes: any RoutesBuilder) {
        let api = routes.grouped(APIPaths.content.map { PathComponent.constant($0) }).grouped(ContentCORS())
        api.get("articles") { req in
            try await answer(req, allowed: ContentAPI.articleParameters) { api, query in try await api.articles(query) }
        }
        api.get("articles", ":id") { req in
            guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound }
            return try await answer(req, allowed: ["fields"]) { api, query in try await api.article(id: id, query) }
        }
        api.get("authors") { req in
            try await answer(req, allowed: ContentAPI.listParameters) { api, query in try await api.authors(query) }
        }
        api.get("authors", ":slug") { req in
            let slug = req.parameters.get("slug") ?? ""
            return try await answer(req, allowed: []) { api, _ in try await api.author(slug: slug) }
        }
        api.get("topics") { req in
            try await answer(req, allowed: ContentAPI.listParameters + ["kind"]) { api, query in try await api.topics(query) }
        }
        api.get("topics", ":slug") { req in
            let slug = req.parameters.get("slug") ?? ""
            return try await answer(req, allowed: []) { api, _ in try await api.topic(slug: slug) }
        }
        api.get("editions") { req in
            try await answer(req, allowed: []) { api, _ in api.editionList() }
        }
        // Browsers ask before sending `Authorization` from another origin.
        api.on(.OPTIONS, "**") { _ in
            var headers = HTTPHeaders()
            ContentCORS.preflight(&headers)
            return Response(status: .noContent, headers: headers)
        }
    }

    /// Authenticates, counts, and answers from the cache or by building the document.
    private func answer(
        _ req: Request, allowed: [String], build: @escaping @Sendable (ContentAPI, APIQuery) async throws -> [String: Any]
    ) async throws -> Response {
        let query = try APIQuery(req.url.query, allowed: allowed)
        guard let key = Self.bearer(req) ?? query.key else { throw APIError.missingKey }
        try failures.check(req.clientAddress)
        guard let integration = try await keys.integration(forKey: key, on: req.db) else {
            try failures.count(req.clientAddress)
            throw APIError.invalidKey
        }
        // A key in a URL ends up in logs, histories and Referer headers: only a key that reads
        // no more than anyone may travel that way.
        if query.key != nil, integration.access != .public { throw APIError.keyInQuery }
        try limiter.count(integration.id.uuidString)
        let viewer = integration.access.viewer
        let api = ContentAPI(database: req.db, editions: editions, settings: settings, catalog: catalog, viewer: viewer, now: Date())
        let render = { @Sendable () async throws -> (html: String, lastModified: Date?) in
            let document = try await build(api, query)
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
            return (String(decoding: data, as: UTF8.self), nil)
        }
        let contentType = "application/json; charset=utf-8"
        let body: PreparedBody
        if let cacheKey = query.cacheKey {
            body = try await cache.page(for: PageCache.Key(page: "api:\(req.url.path)?\(cacheKey)", access: viewer.accessLevel), contentType: contentType, render: render).body
        } else {
            body = PreparedBody(bytes: ByteBuffer(string: try await render().html), contentType: contentType)
        }
        return body.response(to: req, cacheControl: "private, no-cache", vary: "Authorization, Accept-Encoding")
    }

    /// `Authorization: Bearer KEY` (RFC 6750 §2.1).
    static func bearer(_ req: Request) -> String? {
        guard let value = req.headers.first(name: .authorization) else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}

/// Cross-origin reads of the Content API: any origin, no credentials (the key is the only
/// authority, and no cookie is read).
struct ContentCORS: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        Self.apply(&response.headers)
        return response
    }

    static func apply(_ headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: .accessControlAllowOrigin, value: "*")
        headers.replaceOrAdd(name: .accessControlExpose, value: "ETag, Retry-After")
    }

    static func preflight(_ headers: inout HTTPHeaders) {
        apply(&headers)
        headers.replaceOrAdd(name: .accessControlAllowMethods, value: "GET, HEAD, OPTIONS")
        headers.replaceOrAdd(name: .accessControlAllowHeaders, value: "Authorization, If-None-Match")
        headers.replaceOrAdd(name: .accessControlMaxAge, value: "86400")
    }
}
