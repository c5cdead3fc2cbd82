import Foundation

/// A published article as the index files it, every text already in `SearchText` form.
///
/// It becomes up to two rows. The whole text is filed under the article's visibility, and
/// only viewers who may read that visibility match it. A gated article is also filed as the
/// part anyone may read (title, dek, names, preview) for everyone else. So a search can never
/// find an article by words its reader may not read, and a snippet always comes from the row
/// that matched.
struct SearchDocument: Sendable {
    enum Part: String, Sendable {
        case full, preview
    }

    struct Row: Sendable {
        let part: Part
        let body: String
    }

    let articleID: UUID
    let edition: String
    let kind: ArticleKind
    let visibility: Visibility
    let publishedAt: Date
    let title: String
    /// Topic names and aliases in every edition, and the authors' names.
    let names: String
    let topicIDs: [UUID]
    let authorIDs: [UUID]
    let preview: String
    let rest: String

    /// An article's texts as stored, before their words are folded.
    struct Source: Sendable {
        let articleID: UUID
        let edition: String
        let kind: ArticleKind
        let visibility: Visibility
        let publishedAt: Date
        let title: String
        let names: [String]
        let topicIDs: [UUID]
        let authorIDs: [UUID]
        let dek: String
        let previewHTML: String
        let restHTML: String

        var normalized: SearchDocument {
            SearchDocument(
                articleID: articleID, edition: edition, kind: kind, visibility: visibility, publishedAt: publishedAt,
                title: SearchText.indexable(title), names: SearchText.indexable(names.joined(separator: "\n")),
                topicIDs: topicIDs, authorIDs: authorIDs,
                preview: SearchText.indexable(dek) + " " + SearchText.indexable(html: previewHTML),
                rest: SearchText.indexable(html: restHTML)
            )
        }
    }

    /// The title and the names: where a match ranks highest.
    var heads: String { title + "\n" + names }

    var rows: [Row] {
        let full = Row(part: .full, body: rest.isEmpty ? preview : preview + " " + rest)
        return visibility == .public ? [full] : [full, Row(part: .preview, body: preview)]
    }
}

/// What narrows a search besides its words.
struct SearchFilters: Equatable, Sendable {
    var edition: String?
    var kind: ArticleKind?
    var topicID: UUID?
    var authorID: UUID?
    var visibility: Visibility?
    /// One article only: whether it matches, for an API client asking about a known slug.
    var articleID: UUID?
    /// Published at or after.
    var from: Date?
    /// Published before.
    var until: Date?
}

/// One matching article, and which of its rows matched: the one the viewer may read.
struct SearchHit: Equatable, Sendable {
    let articleID: UUID
    let part: SearchDocument.Part
}

/// Who is searching, as far as the index's rows go.
enum SearchAudience: Sendable {
    /// A reader: rows of the visibilities `AccessPolicy` lets this viewer read outright.
    case reader(Viewer)
    /// Staff in the admin: every published article in full.
    case staff

    var readable: Set<Visibility> {
        switch self {
        case .staff: Set(Visibility.allCases)
        case .reader(let viewer): Set(Visibility.allCases.filter { AccessPolicy.paywallReason(visibility: $0, viewer: viewer) == nil })
        }
    }
}
