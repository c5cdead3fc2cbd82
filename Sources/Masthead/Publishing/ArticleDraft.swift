import Foundation

/// Everything an editor can change about an article's content, as one plain value: what the
/// editor form submits, what a revision keeps, and what a restore brings back.
public struct ArticleDraft: Codable, Equatable, Sendable {
    public struct Image: Codable, Equatable, Sendable {
        public var path: String
        public var width: Int
        public var height: Int
    }

    public var title: String
    public var dek: String
    public var slug: String
    public var edition: String
    public var kind: ArticleKind
    public var visibility: Visibility
    public var body: String
    public var authorIDs: [UUID]
    public var topicIDs: [UUID]
    public var image: Image?
    public var imageAlt: String
    public var imageCaption: String
    public var imageCredit: String
    public var seoTitle: String
    public var seoDescription: String

    public static func empty(edition: String) -> ArticleDraft {
        ArticleDraft(
            title: "", dek: "", slug: "", edition: edition, kind: .news, visibility: .public, body: "",
            authorIDs: [], topicIDs: [], image: nil, imageAlt: "", imageCaption: "", imageCredit: "",
            seoTitle: "", seoDescription: ""
        )
    }

    /// The draft of a saved article; its author credits, topic links and text must be loaded.
    init(_ article: Article) throws {
        title = article.title
        dek = article.dek
        slug = article.slug
        edition = article.edition
        kind = article.kind
        visibility = article.visibility
        body = try article.loadedMarkdown
        authorIDs = article.authorCredits.sorted { $0.position < $1.position }.map { $0.$author.id }
        topicIDs = article.topicLinks.map { $0.$topic.id }
        image = article.imagePath.map { Image(path: $0, width: article.imageWidth ?? 0, height: article.imageHeight ?? 0) }
        imageAlt = article.imageAlt
        imageCaption = article.imageCaption
        imageCredit = article.imageCredit
        seoTitle = article.seoTitle ?? ""
        seoDescription = article.seoDescription ?? ""
    }

    init(
        title: String, dek: String, slug: String, edition: String, kind: ArticleKind, visibility: Visibility, body: String,
        authorIDs: [UUID], topicIDs: [UUID], image: Image?, imageAlt: String, imageCaption: String, imageCredit: String,
        seoTitle: String, seoDescription: String
    ) {
        self.title = title
        self.dek = dek
        self.slug = slug
        self.edition = edition
        self.kind = kind
        self.visibility = visibility
        self.body = body
        self.authorIDs = authorIDs
        self.topicIDs = topicIDs
        self.image = image
        self.imageAlt = imageAlt
        self.imageCaption = imageCaption
        self.imageCredit = imageCredit
        self.seoTitle = seoTitle
        self.seoDescription = seoDescription
    }

    /// Copies the content onto an article (its links are written separately).
    func apply(to article: Article, previewParagraphs: Int) {
        article.title = title
        article.dek = dek
        article.slug = slug
        article.edition = edition
        article.kind = kind
        article.visibility = visibility
        article.setBody(markdown: body, previewParagraphs: previewParagraphs)
        article.imagePath = image?.path
        article.imageWidth = image?.width
        article.imageHeight = image?.height
        article.imageAlt = imageAlt
        article.imageCaption = imageCaption
        article.imageCredit = imageCredit
        article.seoTitle = seoTitle.isEmpty ? nil : seoTitle
        article.seoDescription = seoDescription.isEmpty ? nil : seoDescription
    }
}

extension Slug {
    /// A slug made from a title: lowercase ASCII words joined by hyphens. Titles with no Latin
    /// letters (Arabic, Persian) give an empty slug, and the editor is asked for one.
    static func from(_ title: String) -> String {
        let folded = title.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en"))
        var slug = ""
        var pendingHyphen = false
        for scalar in folded.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                if pendingHyphen, !slug.isEmpty { slug.append("-") }
                slug.unicodeScalars.append(scalar)
                pendingHyphen = false
            } else if scalar != "'" && scalar != "’" {
                pendingHyphen = true
            }
        }
        return String(slug.lowercased().prefix(100)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}
