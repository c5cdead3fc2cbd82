import Mustache

/// A paginated list of articles: a kind, a topic or an author.
struct ListingPageModel {
    struct Photo {
        let src: String
        let alt: String
    }

    struct Pagination {
        let newerURL: String?
        let olderURL: String?
        let status: String
    }

    let layout: LayoutModel
    let label: String
    let title: String
    let description: String
    let photo: Photo?
    let cards: [CardModel]
    let pagination: Pagination?

    let hasCards: Bool
}

struct HomePageModel {
    struct Section {
        let id: String
        let title: String
        let url: String
        let cards: [CardModel]
    }

    let layout: LayoutModel
    let heading: String
    let leadLabel: String
    let lead: CardModel?
    let sections: [Section]
    let aside: Section?
}

struct ErrorPageModel {
    let layout: LayoutModel
    let code: Int
    let title: String
    let message: String
    let homeLabel: String
}

/// A standing page: its title and its body, already sanitised when it was saved.
struct StandingPageModel {
    let layout: LayoutModel
    let title: String
    let html: String
}

extension ListingPageModel.Pagination: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "newerURL": newerURL
        case "olderURL": olderURL
        case "status": status
        default: nil
        }
    }
}
