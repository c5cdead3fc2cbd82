import Fluent
import Foundation
import SQLKit

/// A search as readers and staff run it: the words widened by the known names, the index
/// asked, the matching articles loaded, and for readers a snippet from the text each may read.
struct Search: Sendable {
    struct Result: Sendable {
        let article: Article
        let titleHTML: String
        let snippetHTML: String
    }

    struct Results: Sendable {
        let query: SearchQuery
        let total: Int
        /// There are more than `total`: the count stopped at the newest matches it ranks.
        let more: Bool
        let results: [Result]
        /// Topics whose names match the search, for a search that found nothing, each with the
        /// edition whose topic page to link: this one when the topic has articles here.
        let topics: [(topic: Topic, edition: String?)]
    }

    let database: any Database
    let catalog: SearchCatalog
    let now: Date

    /// One page of results for a reader, or for staff (who get no snippets).
    func run(_ query: SearchQuery, filters: SearchFilters, audience: SearchAudience, page: Int, per: Int) async throws -> Results {
        guard !query.isEmpty else { return Results(query: query, total: 0, more: false, results: [], topics: []) }
        let names = try await catalog.vocabulary(on: database)
        let widened = query.widened(by: names)
        let found = try await SearchRanking.search(
            widened, filters: filters, audience: audience, now: now, offset: (page - 1) * per, limit: per,
            index: SearchIndexes.forDatabase(database), on: database as! any SQLDatabase
        )
        let articles = try await SearchCards.load(found.hits.map(\.articleID), on: database as! any SQLDatabase)
        let gated = try await readableGatedTexts(found.hits, articles: articles, audience: audience)
        var results: [Result] = []
        for hit in found.hits {
            guard let article = articles[hit.articleID] else { continue }
            results.append(Result(
                article: article, titleHTML: SearchSnippet.marked(article.title, query: found.query),
                snippetHTML: snippet(of: article, gatedText: gated[hit.articleID], audience: audience, query: found.query)
            ))
        }
        let topics = found.total == 0 ? try await suggestions(widened, names: names, edition: filters.edition) : []
        return Results(query: widened, total: found.total, more: found.more, results: results, topics: topics)
    }

    /// Every article staff may mean by these words: published ones through the index (the whole
    /// text for editors and above, who may open any article; for authors and contributors,
    /// only what any reader may read), and drafts and scheduled ones, never in the index, by
    /// their titles. At most `limit` of each: a list to refine, not to page through.
    func staffMatches(_ query: SearchQuery, role: StaffRole, limit: Int = 1000) async throws -> [UUID] {
        guard !query.isEmpty else { return [] }
        let widened = query.widened(by: try await catalog.vocabulary(on: database))
        let published = try await SearchRanking.search(
            widened, filters: SearchFilters(), audience: role >= .editor ? .staff : .reader(.anonymous), now: now,
            offset: 0, limit: limit, index: SearchIndexes.forDatabase(database), on: database as! any SQLDatabase
        )
        let unpublished = try await Article.query(on: database).filter(\.$status != .published).field(\.$id).field(\.$title).all()
        let drafts = unpublished.filter { widened.matches(SearchText.tokens($0.title)) }.compactMap(\.id).prefix(limit)
        return published.hits.map(\.articleID) + drafts
    }

    /// The passage comes from what the viewer may read: the preview (with the dek), and the
    /// rest only with the gated text `AccessPolicy` granted.
    private func snippet(of article: Article, gatedText: GatedText?, audience: SearchAudience, query: SearchQuery) -> String {
        guard case .reader = audience else { return "" }
        // A snippet is two lines: the first pages of a long report are enough to find them in.
        var text = article.dek + "\n"
        text += ReadableText.prefix(of: article.previewHTML, limit: SearchSnippet.longestSource - text.unicodeScalars.count)
        if let rest = gatedText, !rest.html.isEmpty {
            text += "\n" + ReadableText.prefix(of: rest.html, limit: SearchSnippet.longestSource - text.unicodeScalars.count)
        }
        return SearchSnippet.passage(of: text, marking: query)
    }

    /// The gated text of each hit on its whole text, decided again by `AccessPolicy` for the
    /// article as it is now; none for staff, who get no snippets, or for a hit on the preview.
    private func readableGatedTexts(_ hits: [SearchHit], articles: [UUID: Article], audience: SearchAudience) async throws -> [UUID: GatedText] {
        guard case .reader(let viewer) = audience else { return [:] }
        let decisions = hits.filter { $0.part == .full }.compactMap { hit in
            articles[hit.articleID].map { (article: $0, access: AccessPolicy.decide(article: $0, viewer: viewer, meter: .none)) }
        }
        return try await Article.gatedTexts(decisions, on: database)
    }

    /// Topics with published articles only: one made for an embargoed story stays out of sight
    /// until the story is out. A topic whose articles are all in other editions is linked there.
    private func suggestions(_ query: SearchQuery, names: NameVocabulary, edition: String?) async throws -> [(topic: Topic, edition: String?)] {
        let anywhere = try await catalog.choices(edition: nil, on: database).topicIDs
        let here = try await catalog.choices(edition: edition, on: database).topicIDs
        let ids = Array(names.topics(matching: query).filter(anywhere.contains).prefix(8))
        guard !ids.isEmpty else { return [] }
        let topics = try await Topic.query(on: database).filter(\.$id ~~ ids).with(\.$names).all()
        var linked: [(topic: Topic, edition: String?)] = []
        for topic in topics {
            guard let id = topic.id else { continue }
            linked.append((topic, here.contains(id) ? edition : try await PublishedArticles(database: database).anyEdition(topicID: id)))
        }
        return linked
    }
}
