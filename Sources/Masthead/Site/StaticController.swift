import Foundation
import Vapor

/// Theme assets, fingerprinted and cached for a year. Uploaded media are sent from disk by
/// the front server (`MediaFiles`).
struct StaticController: Sendable {
    let theme: Theme

    func register(on routes: any RoutesBuilder) {
        routes.get("assets", ":file") { try asset($0) }
    }

    func asset(_ req: Request) throws -> Response {
        guard let name = req.parameters.get("file"), let body = theme.assets[name] else { throw SiteError.notFound }
        return body.response(to: req, cacheControl: "public, max-age=31536000, immutable")
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
