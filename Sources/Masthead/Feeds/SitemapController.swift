import Foundation
import Vapor

/// `/sitemap.xml`, the index, and the files it names under `/sitemaps/`, served from the page
/// cache. The news sitemap changes with the clock as well as with publishing, so it is kept
/// for a minute at most.
struct SitemapController: Sendable {
    static let index = "/sitemap.xml"
    static let directory = "sitemaps"
    static let newsFile = "news.xml"
    static var news: String { "/\(directory)/\(newsFile)" }

    static func file(_ section: Sitemaps.Section, number: Int) -> String {
        "/\(directory)/\(section.rawValue)-\(number).xml"
    }

    private static let contentType = "application/xml; charset=utf-8"

    let responder: CachedResponder
    let settings: Settings
    let editions: EditionCatalog

    func register(on routes: any RoutesBuilder) {
        routes.get(.constant(String(Self.index.dropFirst()))) { index($0) }
        routes.get(.constant(Self.directory), ":file") { try file($0) }
    }

    private func sitemaps(_ req: Request) -> Sitemaps {
        Sitemaps(database: req.pageDB, editions: editions, now: Date())
    }

    private func index(_ req: Request) -> EventLoopFuture<Response> {
        responder.respondAlike(req, document: "sitemap/index", contentType: Self.contentType) {
            let files = try await sitemaps(req).files().map { Self.file($0.section, number: $0.number) }
            return (SitemapWriter.index(files + [Self.news], publicURL: settings.publicURL), nil)
        }
    }

    private func file(_ req: Request) throws -> EventLoopFuture<Response> {
        let name = req.parameters.get("file") ?? ""
        if name == Self.newsFile {
            let minute = Int(Date().timeIntervalSince1970 / 60)
            return responder.respondAlike(req, document: "sitemap/news/\(minute)", contentType: Self.contentType, rememberURI: false) {
                (SitemapWriter.news(try await sitemaps(req).news(), publicationName: settings.siteName, publicURL: settings.publicURL), nil)
            }
        }
        guard let (section, number) = Self.parse(name) else { throw SiteError.notFound }
        return responder.respondAlike(req, document: "sitemap/\(section.rawValue)/\(number)", contentType: Self.contentType) {
            guard let entries = try await sitemaps(req).entries(section, file: number) else { throw SiteError.notFound }
            return (SitemapWriter.urls(entries, publicURL: settings.publicURL), entries.compactMap(\.lastModified).max())
        }
    }

    /// `articles-2.xml` as the articles' second file; anything else names no file.
    static func parse(_ name: String) -> (Sitemaps.Section, Int)? {
        guard name.hasSuffix(".xml"), let dash = name.lastIndex(of: "-"),
              let section = Sitemaps.Section(rawValue: String(name[..<dash])) else { return nil }
        let digits = name[name.index(after: dash)..<name.index(name.endIndex, offsetBy: -4)]
        guard (1...6).contains(digits.count), digits.allSatisfy(\.isASCII), let number = Int(digits), number >= 1,
              String(number) == digits else { return nil }
        return (section, number)
    }
}
