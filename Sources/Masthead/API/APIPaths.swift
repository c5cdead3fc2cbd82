import Synchronization
import Vapor

/// Where the APIs live.
enum APIPaths {
    static let root = "/api/"
    static let content = ["api", "content", "v1"]
    static let contentPrefix = "/api/content/v1"
    static let admin = ["api", "admin", "v1"]
    static let adminPrefix = "/api/admin/v1"
}

/// The methods each API address takes, so that a request with another method is answered 405
/// with `Allow` rather than the 404 of an address that does not exist (RFC 9110 §15.5.6): a
/// client learns it used the wrong method, not the wrong path. Filled once routes are registered.
final class APIMethods: Sendable {
    private let patterns = Mutex<[(path: [PathComponent], methods: [String])]>([])

    func learn(_ routes: Routes) {
        let api = routes.all.filter { $0.method != .OPTIONS && $0.path.first?.description == "api" }
        let byPath = Dictionary(grouping: api) { $0.path.map(\.description).joined(separator: "/") }
        let learned = byPath.values.map { routes in
            let methods = routes.map(\.method.rawValue)
            return (routes[0].path, (methods + (methods.contains("GET") ? ["HEAD"] : [])).sorted())
        }
        patterns.withLock { $0 = learned }
    }

    /// The methods the address takes, or nil when no API route has it.
    func allowed(for path: String) -> [String]? {
        let segments = path.split(separator: "/").map(String.init)
        return patterns.withLock { patterns in
            patterns.first { Self.matches($0.path, segments) }?.methods
        }
    }

    private static func matches(_ pattern: [PathComponent], _ segments: [String]) -> Bool {
        guard pattern.count == segments.count else { return false }
        return zip(pattern, segments).allSatisfy { component, segment in
            if case .constant(let text) = component { return text == segment }
            return true
        }
    }
}
