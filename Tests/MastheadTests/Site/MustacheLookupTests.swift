import Foundation
import Mustache
import Testing
@testable import Masthead

/// The models that name their fields for the templates instead of leaving them to reflection
/// must name every field, with the value reflection would find.
@Suite("Template lookups by name")
struct MustacheLookupTests {
    @Test("the layout names every field it has")
    func layout() {
        expectSameAsReflection(Self.layout)
    }

    @Test("the search page, its results and its filter options name every field they have")
    func searchPage() {
        let option = SearchPageModel.Option(value: "news", label: "News", selected: true)
        let result = SearchPageModel.Result(
            url: "/news/a", titleHTML: "<mark>Water</mark>", snippetHTML: "… water …", kindLabel: "News", byline: "A. Writer",
            datetime: "2026-12-01", dateText: "1 December 2026", badge: nil, lang: "en", dir: "ltr"
        )
        let page = SearchPageModel(
            layout: Self.layout, actionURL: "/search", label: "Search", text: "water", error: nil, intro: nil, countText: "2 results",
            noneText: nil, results: [result], suggestions: [], hasSuggestions: false, kinds: [option], topics: [], authors: [],
            from: "", to: "", filtersOpen: false, searched: true, pagination: nil
        )
        expectSameAsReflection(option)
        expectSameAsReflection(result)
        expectSameAsReflection(page)
    }

    @Test("the layout's links, tags and banners, and the search page's suggestions, pages and badges name every field they have")
    func parts() throws {
        let layout = Self.layout
        layout.nav.forEach { expectSameAsReflection($0) }
        expectSameAsReflection(layout.account)
        layout.editions.forEach { expectSameAsReflection($0) }
        layout.alternates.forEach { expectSameAsReflection($0) }
        layout.feeds.forEach { expectSameAsReflection($0) }
        layout.meta.forEach { expectSameAsReflection($0) }
        expectSameAsReflection(LayoutModel.StructuredData(json: "{}"))
        expectSameAsReflection(try #require(layout.breaking))
        expectSameAsReflection(try #require(layout.push))
        expectSameAsReflection(SearchPageModel.Suggestion(name: "Water", url: "/topics/water"))
        expectSameAsReflection(ListingPageModel.Pagination(newerURL: nil, olderURL: "/search?q=water&page=2", status: "Page 1 of 3"))
        expectSameAsReflection(CardModel.Badge(label: "Members", modifier: "members"))
    }

    private func expectSameAsReflection(_ value: some MustacheParent, sourceLocation: SourceLocation = #_sourceLocation) {
        let fields = Mirror(reflecting: value).children.compactMap { child in child.label.map { ($0, child.value) } }
        #expect(!fields.isEmpty, sourceLocation: sourceLocation)
        for (name, reflected) in fields {
            let named = value.child(named: name)
            let mirror = Mirror(reflecting: reflected)
            if mirror.displayStyle == .optional {
                // Reflection unwraps an optional: a nil field is no value at all.
                let wrapped = mirror.children.first?.value
                #expect((named == nil) == (wrapped == nil), "\(name) is nil on one side only", sourceLocation: sourceLocation)
                #expect(named.map { String(describing: $0) } == wrapped.map { String(describing: $0) }, "\(name)", sourceLocation: sourceLocation)
            } else {
                #expect(named != nil, "\(name) is not named", sourceLocation: sourceLocation)
                #expect(named.map { String(describing: $0) } == String(describing: reflected), "\(name)", sourceLocation: sourceLocation)
            }
        }
    }

    private static let layout = LayoutModel(
        lang: "en", dir: "ltr", documentTitle: "Search | The Outlet", description: "Search the archive", canonicalURL: nil, noindex: true,
        siteName: "The Outlet", logo: nil, homeURL: "/", stylesheet: "/assets/site.css", favicon: "/assets/favicon.svg", bodyClass: "page-search",
        nav: [.init(label: "News", url: "/news", current: false)], account: .init(label: "Sign in", url: "/account/sign-in", current: false),
        editions: [.init(name: "English", code: "en", url: "/", current: true)], alternates: [.init(hreflang: "ar", url: "/ar/")],
        feeds: [.init(type: "application/rss+xml", title: "News", url: "/feed.xml")], meta: [.init(attribute: "name", name: "robots", content: "noindex")],
        jsonLD: [], t: ["search_title": "Search"], copyright: "© The Outlet", newslettersURL: "/newsletters", searchURL: "/search",
        openSearchURL: "/opensearch.xml", openSearchTitle: "The Outlet", searchText: "water",
        breaking: .init(headline: "Border crossing retaken", url: "/articles/border"),
        push: .init(key: "BKey", script: "/assets/push.js", subscribeURL: "/push/subscriptions", unsubscribeURL: "/push/unsubscribe", workerURL: "/push-worker.js")
    )
}
