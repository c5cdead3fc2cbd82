import Foundation

/// Where Masthead asks a CDN or a cache in front of it to forget pages, and how that one wants
/// to be asked (`MASTHEAD_CDN_PURGE_URL`, `_STYLE`, `_TOKEN`; docs/operations.md).
public struct CDNPurgeHook: Sendable, Equatable {
    public enum Style: String, Sendable, CaseIterable {
        /// `POST {"keys": [...]}` with `Authorization: Bearer` when a token is set.
        case generic
        /// Fastly's bulk purge: `POST /service/<id>/purge {"surrogate_keys": [...]}` with `Fastly-Key`.
        case fastly
        /// Cloudflare's: `POST /zones/<zone>/purge_cache {"tags": [...]}` with `Authorization: Bearer`.
        case cloudflare
        /// Varnish with vmod xkey: `PURGE` with the names in `xkey-purge` (deploy/varnish.vcl).
        case varnish

        /// The most names one request may carry (Fastly takes 256, Cloudflare 100).
        var batch: Int {
            switch self {
            case .fastly: 256
            case .generic, .cloudflare, .varnish: 100
            }
        }
    }

    public let url: URL
    public let style: Style
    public let token: String?

    public init(url: URL, style: Style, token: String?) {
        self.url = url
        self.style = style
        self.token = token
    }

    static func fromEnvironment(_ environment: [String: String]) throws -> CDNPurgeHook? {
        guard let text = environment["MASTHEAD_CDN_PURGE_URL"], !text.isEmpty else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw SettingsError("MASTHEAD_CDN_PURGE_URL must be an http or https URL, got '\(text)'")
        }
        let styleText = environment["MASTHEAD_CDN_PURGE_STYLE"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? Style.generic.rawValue
        guard let style = Style(rawValue: styleText) else {
            throw SettingsError("MASTHEAD_CDN_PURGE_STYLE must be one of \(Style.allCases.map(\.rawValue).joined(separator: ", ")), got '\(styleText)'")
        }
        let token = environment["MASTHEAD_CDN_PURGE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if style == .fastly || style == .cloudflare, token == nil {
            throw SettingsError("MASTHEAD_CDN_PURGE_TOKEN is needed for \(style.rawValue) purges: the API token")
        }
        if token != nil, url.scheme == "http", !["127.0.0.1", "::1", "[::1]", "localhost"].contains(url.host ?? "") {
            throw SettingsError("MASTHEAD_CDN_PURGE_URL must be https to carry MASTHEAD_CDN_PURGE_TOKEN anywhere but this machine")
        }
        return CDNPurgeHook(url: url, style: style, token: token)
    }
}
