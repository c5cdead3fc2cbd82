import Fluent
import Vapor

/// Answers the old site's addresses (kept by importers) with a permanent redirect to the
/// article's or standing page's address here. It looks only where nothing else answered, or at the home page
/// asked for a post by number (`/?p=123`), so the pages served every second pay nothing.
struct LegacyRedirects: AsyncMiddleware {
    let editions: EditionCatalog

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.method == .GET || request.method == .HEAD, !request.url.path.hasPrefix(APIPaths.root) else {
            return try await next.respond(to: request)
        }
        if request.url.path == "/", let query = request.url.query, Self.namesAPost(query), let location = try await location(for: request) {
            return request.redirect(to: location, redirectType: .permanent)
        }
        do {
            return try await next.respond(to: request)
        } catch {
            let notFound = (error as? SiteError) == .notFound || (error as? any AbortError)?.status == .notFound
            guard notFound, let location = try? await location(for: request) else { throw error }
            return request.redirect(to: location, redirectType: .permanent)
        }
    }

    private static func namesAPost(_ query: String) -> Bool {
        query.split(separator: "&").contains { $0.hasPrefix("p=") || $0.hasPrefix("page_id=") || $0.hasPrefix("attachment_id=") }
    }

    private func location(for request: Request) async throws -> String? {
        guard let path = LegacyPath.normalized(path: request.url.path, query: request.url.query) else { return nil }
        if let standing = try await LegacyPagePath.query(on: request.db).filter(\.$path == path).with(\.$page).first() {
            let page = standing.page
            guard page.published, let edition = editions[page.edition] else { return nil }
            return SiteURL(edition: edition).page(page.slug)
        }
        guard let legacy = try await LegacyPath.query(on: request.db).filter(\.$path == path).with(\.$article).first() else { return nil }
        let article = legacy.article
        guard article.status == .published, article.publishedAt.map({ $0 <= Date() }) == true,
              let edition = editions[article.edition]
        else { return nil }
        return SiteURL(edition: edition).article(article.slug)
    }
}
