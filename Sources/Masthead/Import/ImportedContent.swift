import Foundation

/// What another platform's export holds, read into the values every importer plans from:
/// authors, terms (topics), images and posts, in the words WordPress uses, since it was first.
struct ImportedContent {
    struct Author {
        let login: String
        let email: String
        let displayName: String
        var bio = ""
    }

    struct Term {
        let slug: String
        let name: String
        let description: String
    }

    struct Attachment {
        let id: String
        let url: String
        /// The file's path under the platform's uploads folder.
        let file: String
        let caption: String
        let alt: String
    }

    struct Post {
        let id: String
        let type: String
        let title: String
        let slug: String
        /// In WordPress's words: publish, future, draft, pending, private, trash.
        let status: String
        let link: String
        let guid: String
        /// Author logins, in byline order.
        let creators: [String]
        let content: String
        let excerpt: String
        /// The publication time in UTC, or nil when the platform left it out (drafts).
        let dateGMT: Date?
        /// The publication time in the old site's own time zone, when that is all there is.
        let localDate: DateComponents?
        let categories: [String]
        let tags: [String]
        let language: String?
        let thumbnailID: String?
        /// Who may read it, when the platform says (Ghost does); else the import's choice.
        var visibility: Visibility? = nil
    }

    /// `wordpress`, `ghost`: the first half of every imported item's origin.
    let platform: String
    let siteURL: String
    /// What image addresses of the old site contain before their path in the uploads folder.
    let uploadsMarker: String
    let authors: [Author]
    let categories: [Term]
    let tags: [Term]
    let attachments: [String: Attachment]
    let posts: [Post]

    init(platform: String, siteURL: String, uploadsMarker: String, authors: [Author], categories: [Term], tags: [Term], attachments: [String: Attachment], posts: [Post]) {
        self.platform = platform
        self.siteURL = siteURL
        self.uploadsMarker = uploadsMarker
        self.authors = authors
        self.categories = categories
        self.tags = tags
        self.attachments = attachments
        self.posts = posts
    }
}
