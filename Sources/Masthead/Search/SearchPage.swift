import Foundation
import Mustache

/// The search page's view model.
struct SearchPageModel {
    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    struct Result {
        let url: String
        let titleHTML: String
        let snippetHTML: String
        let kindLabel: String
        let byline: String
        let datetime: String
        let dateText: String
        let badge: CardModel.Badge?
        let lang: String
        let dir: String
    }

    struct Suggestion {
        let name: String
        let url: String
    }

    let layout: LayoutModel
    let actionURL: String
    let label: String
    let text: String
    let error: String?
    let intro: String?
    let countText: String?
    let noneText: String?
    let results: [Result]
    let suggestions: [Suggestion]
    let hasSuggestions: Bool
    let kinds: [Option]
    let topics: [Option]
    let authors: [Option]
    let from: String
    let to: String
    let filtersOpen: Bool
    let searched: Bool
    let pagination: ListingPageModel.Pagination?
}

/// Named lookups for the template instead of reflection (see `LayoutModel`'s).
extension SearchPageModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "layout": layout
        case "actionURL": actionURL
        case "label": label
        case "text": text
        case "error": error
        case "intro": intro
        case "countText": countText
        case "noneText": noneText
        case "results": results
        case "suggestions": suggestions
        case "hasSuggestions": hasSuggestions
        case "kinds": kinds
        case "topics": topics
        case "authors": authors
        case "from": from
        case "to": to
        case "filtersOpen": filtersOpen
        case "searched": searched
        case "pagination": pagination
        default: nil
        }
    }
}

extension SearchPageModel.Result: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "url": url
        case "titleHTML": titleHTML
        case "snippetHTML": snippetHTML
        case "kindLabel": kindLabel
        case "byline": byline
        case "datetime": datetime
        case "dateText": dateText
        case "badge": badge
        case "lang": lang
        case "dir": dir
        default: nil
        }
    }
}

extension SearchPageModel.Option: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}

extension SearchPageModel.Suggestion: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "url": url
        default: nil
        }
    }
}

extension SitePages {
    func searchPage(
        form: SearchForm, results: Search.Results?, error: String?, choices: SearchChoices, edition: Edition, viewerLevel: AccessLevel
    ) throws -> String {
        let urls = SiteURL(edition: edition)
        let numbers = EditionNumbers(edition: edition)
        let title = form.text.isEmpty ? edition.text("search_title") : edition.text("search_results_title", ["query": form.text])
        var head = PageHead(title: "\(title) | \(settings.siteName)", description: edition.text("search_intro"), path: "", bodyClass: "page-search")
        head.searchText = form.text
        let dates = EditionDates(edition: edition)
        let option = { (value: String, label: String, selected: String?) in SearchPageModel.Option(value: value, label: label, selected: value == selected) }
        let pageCount = results.map { max(1, min(SearchForm.lastPage, ($0.total + SearchForm.perPage - 1) / SearchForm.perPage)) } ?? 1
        let model = SearchPageModel(
            layout: layout(edition: edition, head: head, access: viewerLevel),
            actionURL: urls.search,
            label: edition.text("search_label", ["site": settings.siteName]),
            text: form.text,
            error: error,
            intro: results == nil && error == nil ? edition.text("search_intro") : nil,
            countText: results.flatMap { results in
                switch (results.total, results.more) {
                case (0, _): nil
                case (_, true): edition.text("search_count_more", ["count": numbers.format(results.total)])
                case (1, false): edition.text("search_count_one")
                default: edition.text("search_count", ["count": numbers.format(results.total)])
                }
            },
            noneText: results.flatMap { $0.total == 0 ? edition.text("search_none", ["query": form.text]) : nil },
            results: (results?.results ?? []).map { result in
                let article = result.article
                let articleEdition = theme.editions[article.edition] ?? edition
                return .init(
                    url: SiteURL(edition: articleEdition).article(article.slug),
                    titleHTML: result.titleHTML, snippetHTML: result.snippetHTML,
                    kindLabel: edition.text("kind_\(article.kind.rawValue)"),
                    byline: article.bylineAuthors.map(\.name).joined(separator: edition.text("list_separator")),
                    datetime: article.publishedAt.map(EditionDates.iso) ?? "",
                    dateText: article.publishedAt.map(dates.day) ?? "",
                    badge: badge(for: article.visibility, edition: edition),
                    lang: articleEdition.code, dir: articleEdition.direction.rawValue
                )
            },
            suggestions: (results?.topics ?? []).map { suggestion in
                let linked = suggestion.edition.flatMap { theme.editions[$0] } ?? edition
                return .init(name: suggestion.topic.name(in: edition.code), url: SiteURL(edition: linked).topic(suggestion.topic.slug))
            },
            hasSuggestions: !(results?.topics ?? []).isEmpty,
            kinds: [option("", edition.text("search_filter_any_kind"), form.kind?.rawValue ?? "")]
                + ArticleKind.allCases.map { option($0.rawValue, edition.text("kinds_\($0.rawValue)"), form.kind?.rawValue) },
            topics: [option("", edition.text("search_filter_any_topic"), form.topicSlug ?? "")]
                + choices.topics.map { option($0.slug, $0.name, form.topicSlug) },
            authors: [option("", edition.text("search_filter_any_author"), form.authorSlug ?? "")]
                + choices.authors.map { option($0.slug, $0.name, form.authorSlug) },
            from: form.from.flatMap(SearchForm.wellFormedDay) ?? "",
            to: form.to.flatMap(SearchForm.wellFormedDay) ?? "",
            filtersOpen: form.kind != nil || form.topicSlug != nil || form.authorSlug != nil || form.from != nil || form.to != nil,
            searched: results != nil,
            pagination: results == nil ? nil : pagination(page: form.page, pageCount: pageCount, edition: edition) { form.url(path: urls.search, page: $0) }
        )
        return try theme.render("search", model)
    }
}
