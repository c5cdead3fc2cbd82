import Foundation

/// What the article editor template shows: the draft's fields, the choices around them, the
/// problems found on the last submission, and the actions the staff member's role reaches.
struct EditorPage {
    struct Choice {
        let value: String
        let label: String
        let checked: Bool
    }

    struct Problem {
        let field: String
        let message: String
    }

    struct Image {
        let src: String
        let path: String
        let width: Int
        let height: Int
    }

    struct EditionChoice {
        let value: String
        let label: String
        let selected: Bool
        let dir: String
    }

    struct Link {
        let label: String
        let url: String
        let separator: String
    }

    struct CorrectionRow {
        let date: String
        let note: String
    }

    struct Translation {
        let title: String
        let edition: String
        let url: String
    }

    let layout: AdminPages.Layout
    let heading: String
    let formAction: String
    /// Where the editor's script asks for a live preview of the body.
    let previewURL = AdminURL.preview
    /// The revision this form was opened at (see `ArticleEditor.update`).
    let baseRevision: Int?
    let csrf: String
    let statusLine: String
    let publicURL: String?
    let revisionsURL: String?
    let liveDeskURL: String?
    let breakingNewsURL: String?
    let commentsURL: String?
    /// The article's page as each kind of reader gets it, published or not.
    let readerViews: [Link]
    let hasReaderViews: Bool
    let notice: String?
    let errors: [String: String]
    let problems: [Problem]
    let hasProblems: Bool
    let title: String
    let dek: String
    let slug: String
    let body: String
    let editions: [EditionChoice]
    /// The preview is set in the article's language and direction, not the admin's.
    let previewLang: String
    let previewDir: String
    let kinds: [Option]
    let visibilities: [Option]
    let authors: [Choice]
    let topics: [Choice]
    let topicNames: [String]
    let topicKinds: [Option]
    /// Topics picked or typed on a form shown again (after a preview or a problem), not yet saved.
    let pendingTopics: [String]
    let image: Image?
    let imageAlt: String
    let imageCaption: String
    let imageCredit: String
    let seoTitle: String
    let seoDescription: String
    let scheduleAt: String
    let previewHTML: String?
    let mayPublish: Bool
    let mayUnpublish: Bool
    let isPublished: Bool
    let correctionAction: String?
    /// Only for drafts never published: anything readers saw is unpublished, not deleted.
    let deleteAction: String?
    let corrections: [CorrectionRow]
    let translationAction: String?
    let translationOptions: [Option]
    let translations: [Translation]
    let hasTranslations: Bool

    /// The body as readers will get it, with the paywall's place marked for the editor.
    static func previewHTML(markdown: String, previewParagraphs: Int) -> String {
        let body = ArticleBody(markdown: markdown, previewParagraphs: previewParagraphs)
        guard !body.restHTML.isEmpty else { return body.previewHTML }
        return body.previewHTML
            + "\n<p class=\"preview-paywall\" role=\"separator\">Paywall: readers without access stop here</p>\n"
            + body.restHTML
    }
}
