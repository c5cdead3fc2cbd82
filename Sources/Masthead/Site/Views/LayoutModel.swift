import Foundation
import Mustache

/// What the shared layout needs: document language and direction, head metadata,
/// navigation and editions. Templates see it as `layout`.
struct LayoutModel {
    struct Link {
        let label: String
        let url: String
        let current: Bool
    }

    struct EditionLink {
        let name: String
        let code: String
        let url: String
        let current: Bool
    }

    struct Alternate {
        let hreflang: String
        let url: String
    }

    struct FeedLink {
        let type: String
        let title: String
        let url: String
    }

    struct StructuredData {
        let json: String
    }

    /// The edition's breaking-news banner, above every page while it lasts.
    struct Breaking {
        let headline: String
        let url: String
    }

    /// The footer's control for breaking-news alerts by Web Push, which its script reveals
    /// where the browser supports them.
    struct Push {
        let key: String
        let script: String
        let subscribeURL: String
        let unsubscribeURL: String
        let workerURL: String
    }

    struct MetaTag {
        let attribute: String
        let name: String
        let content: String
    }

    let lang: String
    let dir: String
    let documentTitle: String
    let description: String
    let canonicalURL: String?
    let noindex: Bool
    let siteName: String
    /// The outlet's logo, when one was uploaded in the settings; the name is its alt text.
    let logo: String?
    let homeURL: String
    let stylesheet: String
    let favicon: String
    let bodyClass: String
    let nav: [Link]
    /// "Sign in" or "Account": by access level only, so a cached page names nobody.
    let account: Link
    let editions: [EditionLink]
    let alternates: [Alternate]
    let feeds: [FeedLink]
    let meta: [MetaTag]
    let jsonLD: [StructuredData]
    let t: [String: String]
    let copyright: String
    let newslettersURL: String
    let searchURL: String
    let openSearchURL: String
    let openSearchTitle: String
    /// What the reader searched for, kept in the header's search box on the results page.
    let searchText: String
    let breaking: Breaking?
    let push: Push?
}

/// Head metadata a page adds to the layout.
struct PageHead {
    var title: String
    var description: String
    var path: String
    var bodyClass: String
    var currentNavPath: String? = nil
    /// Same page in other editions, by edition code, for `hreflang` links and the edition switch.
    var alternates: [String: String] = [:]
    var meta: [LayoutModel.MetaTag] = []
    /// Feeds following this page, for autodiscovery.
    var feeds: [LayoutModel.FeedLink] = []
    /// JSON-LD documents, each already made safe for a `<script>` element.
    var jsonLD: [String] = []
    var searchText = ""
}

/// Named lookups for the templates, which would otherwise find each field by reflection: on
/// pages rendered per request (search results, the account) that was a tenth of their time.
/// A field missing here is missing from the templates; `MustacheLookupTests` compares each
/// with its reflection. An optional is handed over as itself, so that nil is no value (as
/// reflection unwraps it), not a value that holds nil and renders as "nil".
extension LayoutModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "lang": lang
        case "dir": dir
        case "documentTitle": documentTitle
        case "description": description
        case "canonicalURL": canonicalURL
        case "noindex": noindex
        case "siteName": siteName
        case "logo": logo
        case "homeURL": homeURL
        case "stylesheet": stylesheet
        case "favicon": favicon
        case "bodyClass": bodyClass
        case "nav": nav
        case "account": account
        case "editions": editions
        case "alternates": alternates
        case "feeds": feeds
        case "meta": meta
        case "jsonLD": jsonLD
        case "t": t
        case "copyright": copyright
        case "newslettersURL": newslettersURL
        case "searchURL": searchURL
        case "openSearchURL": openSearchURL
        case "openSearchTitle": openSearchTitle
        case "searchText": searchText
        case "breaking": breaking
        case "push": push
        default: nil
        }
    }
}

extension LayoutModel.Link: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "url": url
        case "current": current
        default: nil
        }
    }
}

extension LayoutModel.EditionLink: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "code": code
        case "url": url
        case "current": current
        default: nil
        }
    }
}

extension LayoutModel.Alternate: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "hreflang": hreflang
        case "url": url
        default: nil
        }
    }
}

extension LayoutModel.FeedLink: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "type": type
        case "title": title
        case "url": url
        default: nil
        }
    }
}

extension LayoutModel.StructuredData: MustacheParent {
    func child(named name: String) -> Any? {
        name == "json" ? json : nil
    }
}

extension LayoutModel.Breaking: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "headline": headline
        case "url": url
        default: nil
        }
    }
}

extension LayoutModel.Push: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "script": script
        case "subscribeURL": subscribeURL
        case "unsubscribeURL": unsubscribeURL
        case "workerURL": workerURL
        default: nil
        }
    }
}

extension LayoutModel.MetaTag: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "attribute": attribute
        case "name": self.name
        case "content": content
        default: nil
        }
    }
}
