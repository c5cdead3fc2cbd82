import Mustache

/// An article as it appears in a list: the same shape on the home page, listings and related.
struct CardModel {
    struct Image {
        let src: String
        let width: Int
        let height: Int
    }

    struct Badge {
        let label: String
        let modifier: String
    }

    let url: String
    let title: String
    let dek: String
    let kindLabel: String
    let byline: String
    let datetime: String
    let dateText: String
    let badge: Badge?
    /// "3 comments", linking to the article's discussion, when readers can see any.
    let hasComments: Bool
    let commentsLabel: String
    let image: Image?
    let headingTag: String
    let lead: Bool
    let compact: Bool
}

extension CardModel.Badge: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "modifier": modifier
        default: nil
        }
    }
}
