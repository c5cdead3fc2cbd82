import Foundation
import Vapor

/// Theme assets (fingerprinted, cached for a year) and uploaded media (cached for a day).
struct StaticController: Sendable {
    let theme: Theme
    let mediaDirectory: String

    func register(on routes: any RoutesBuilder) {
        routes.get("assets", ":file") { try asset($0) }
        routes.get(.constant(SiteURL.media), ":file") { try await media($0) }
    }

    func asset(_ req: Request) throws -> Response {
        guard let name = req.parameters.get("file"), let body = theme.assets[name] else { throw SiteError.notFound }
        return body.response(to: req, cacheControl: "public, max-age=31536000, immutable")
    }

    func media(_ req: Request) async throws -> Response {
        guard let name = req.parameters.get("file"), MediaFileName.isValid(name),
              let contentType = MediaType.forFileName(name) else { throw SiteError.notFound }
        let path = "\(mediaDirectory)/\(name)"
        guard FileManager.default.fileExists(atPath: path) else { throw SiteError.notFound }
        // Read whole (media are images of a few hundred kilobytes at most) so the response has
        // an ETag and, for SVG, a gzip form like every other.
        let bytes = try await req.fileio.collectFile(at: path)
        return PreparedBody(bytes: bytes, contentType: contentType).response(to: req, cacheControl: "public, max-age=86400")
    }
}

/// Media files are stored under names Masthead chose itself; anything else is refused,
/// so a request can never walk out of the media folder.
enum MediaFileName {
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 200, !name.hasPrefix(".") else { return false }
        return name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 || $0 == 95 }
    }
}
