import Vapor

/// Pages made for one reader (sign-in, account, checkout): never cached, never indexed.
extension SitePages {
    /// Personal pages have no canonical URL and are not for search engines (an empty path says so).
    func personalLayout(edition: Edition, title: String, access: AccessLevel = .anonymous) -> LayoutModel {
        layout(edition: edition, head: PageHead(title: "\(title) | \(settings.siteName)", description: title, path: "", bodyClass: "page-member"), access: access)
    }

    func personalResponse(_ template: String, _ model: Any, status: HTTPResponseStatus = .ok) throws -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/html; charset=utf-8")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: try theme.render(template, model)))
    }
}
