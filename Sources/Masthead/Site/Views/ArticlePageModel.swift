/// The article page. The gated text is present only when the access decision granted it.
struct ArticlePageModel {
    struct AuthorLink {
        let separator: String
        let name: String
        let url: String
    }

    struct Figure {
        let src: String
        let width: Int
        let height: Int
        let alt: String
        let caption: String
        let credit: String
    }

    struct TopicLink {
        let name: String
        let url: String
    }

    struct Translation {
        let name: String
        let lang: String
        let dir: String
        let url: String
    }

    struct Gated {
        let html: String
    }

    struct Link {
        let label: String
        let url: String
    }

    struct Paywall {
        let title: String
        let text: String
        let price: String?
        let primary: Link
        let secondary: Link?
    }

    let layout: LayoutModel
    let kindLabel: String
    let kindURL: String
    let title: String
    let dek: String
    let authors: [AuthorLink]
    let publishedISO: String
    let publishedText: String
    let updatedISO: String?
    let updatedText: String?
    let badge: CardModel.Badge?
    let figure: Figure?
    let previewHTML: String
    let gated: Gated?
    let paywall: Paywall?
    let topics: [TopicLink]
    let translations: [Translation]
    let related: [CardModel]

    let hasTopics: Bool
    let hasRelated: Bool
    let corrections: [Correction]
    let hasCorrections: Bool
    let live: LiveCoverageModel?
    /// Where the discussion is, when the article takes comments: fetched after the page by its
    /// script, a link for readers without one.
    let comments: Comments?

    struct Comments {
        let pageURL: String
        let fragmentURL: String
        let script: String
    }

    struct Correction {
        let dateISO: String
        let dateText: String
        let note: String
    }
}
