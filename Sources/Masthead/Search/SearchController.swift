import Fluent
import Foundation
import Vapor

/// The search page of each edition (`/search`, `/ar/search`) and its OpenSearch description.
/// Results depend on who asks (snippets come from what each viewer may read), so they are
/// never cached; they are rate limited per client like the other public endpoints.
struct SearchController: Sendable {
    static let segment = "search"
    static let openSearchFile = "opensearch.xml"

    let pages: SitePages
    let settings: Settings
    let limiter: APIRateLimiter
    let catalog: SearchCatalog

    func register(on routes: any RoutesBuilder, editions: EditionCatalog) {
        for edition in editions.all {
            let group = edition.isDefault ? routes : routes.grouped(.constant(edition.code))
            group.get(.constant(Self.segment)) { try await search($0, edition: edition) }
            group.get(.constant(Self.openSearchFile)) { openSearch($0, edition: edition) }
        }
    }

    func search(_ req: Request, edition: Edition) async throws -> Response {
        var form = SearchForm()
        var error: String?
        var status = HTTPResponseStatus.ok
        var results: Search.Results?
        do {
            form = try SearchForm(req)
            let query = try SearchQuery(form.text)
            if !query.isEmpty {
                try limiter.count(req.clientAddress)
                let filters = try await form.filters(edition: edition.code, on: req.db, timeZone: settings.timeZone)
                results = try await Search(database: req.db, catalog: catalog, now: Date())
                    .run(query, filters: filters, audience: .reader(req.viewer), page: form.page, per: SearchForm.perPage)
            }
        } catch SiteError.badRequest(let key) {
            (error, status) = (edition.text(key), .badRequest)
        } catch SearchError.queryTooLong {
            (error, status) = (edition.text("search_error_long", ["max": EditionNumbers(edition: edition).format(SearchQuery.maximumLength)]), .badRequest)
        } catch APIError.rateLimited(let retryAfter) {
            let response = try await render(req, edition: edition, form: form, results: nil, error: edition.text("search_limited"), status: .tooManyRequests)
            response.headers.replaceOrAdd(name: "Retry-After", value: String(retryAfter))
            return response
        }
        return try await render(req, edition: edition, form: form, results: results, error: error, status: status)
    }

    private func render(_ req: Request, edition: Edition, form: SearchForm, results: Search.Results?, error: String?, status: HTTPResponseStatus) async throws -> Response {
        let choices = try await catalog.choices(edition: edition.code, on: req.db)
        let html = try pages.searchPage(form: form, results: results, error: error, choices: choices, edition: edition, viewerLevel: req.viewer.accessLevel)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/html; charset=utf-8")
        // Each viewer's results differ (snippets of what they may read): no shared cache keeps
        // them, and a signed-in reader's are not left on the disk of a shared computer.
        headers.replaceOrAdd(name: .cacheControl, value: req.viewer == .anonymous ? "private, no-cache" : "private, no-store")
        return Response(status: status, headers: headers, body: .init(string: html))
    }

    /// Lets browsers offer the site's search from the address bar.
    func openSearch(_ req: Request, edition: Edition) -> Response {
        let searchURL = settings.publicURL + edition.pathPrefix + "/" + Self.segment
        let name = String(settings.siteName.prefix(16))
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/" xmlns:moz="http://www.mozilla.org/2006/browser/search/">
            <ShortName>\(XMLText.escape(name))</ShortName>
            <Description>\(XMLText.escape(edition.text("opensearch_description", ["site": settings.siteName, "edition": edition.name])))</Description>
            <InputEncoding>UTF-8</InputEncoding>
            <Language>\(XMLText.escape(edition.code))</Language>
            <Image height="16" width="16" type="image/svg+xml">\(XMLText.escape(settings.publicURL + pages.theme.assetPath("favicon.svg")))</Image>
            <Url type="text/html" method="get" template="\(XMLText.escape(searchURL))?q={searchTerms}"/>
            <Url type="application/opensearchdescription+xml" rel="self" template="\(XMLText.escape(searchURL.dropLast(Self.segment.count) + Self.openSearchFile))"/>
            <moz:SearchForm>\(XMLText.escape(searchURL))</moz:SearchForm>
            </OpenSearchDescription>

            """
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/opensearchdescription+xml; charset=utf-8")
        headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=3600")
        return Response(status: .ok, headers: headers, body: .init(string: xml))
    }
}
