import Foundation

/// What the discussion's templates show one reader (`comments`, `partials/comments`).
struct CommentsPageModel {
    /// Every field has a value: Mustache looks a missing (nil) one up in the enclosing
    /// comment, and a reply would take its parent's badge or buttons.
    struct Item {
        let anchor: String
        let author: String
        let hasBadge: Bool
        let badge: String
        let time: String
        let iso: String
        let html: String
        let edited: Bool
        let pending: Bool
        let deleted: Bool
        let isReply: Bool
        let mayEdit: Bool
        let editURL: String
        let editing: Bool
        let editAction: String
        let editText: String
        let editFieldID: String
        let mayDelete: Bool
        let deleteAction: String
        let mayReport: Bool
        let reportAction: String
        let mayReply: Bool
        let replyAction: String
        let replyParent: String
        let replyFieldID: String
        let actionContext: String
        let replies: [Item]
        let hasActions: Bool
        let hasReplies: Bool
    }

    let layout: LayoutModel?
    let t: [String: String]
    let lang: String
    let dir: String
    let heading: String
    let title: String
    let articleURL: String
    let items: [Item]
    let hasItems: Bool
    let mayRead: Bool
    let restricted: String?
    let joinURL: String?
    let writeAction: String?
    let text: String
    let signInURL: String?
    let pageTitle: String
    let refusal: String?
    let csrf: String
    let from: String
    let error: String?
    let notice: String?
    let longest: Int

    init(
        layout: LayoutModel?, thread: CommentThread, article: Article, edition: Edition, member: Member?, mayRead: Bool,
        mayWrite: Bool, refusal: String?, signInURL: String?, joinURL: String?, csrf: String, from: String, editing: UUID?,
        form: (text: String, replyTo: UUID?)?, error: String?, notice: String?, now: Date
    ) {
        let articleID = article.id!
        let base = CommentsController.page(articleID)
        let dates = EditionDates(edition: edition)
        let open = mayWrite
        func item(_ comment: Comment, replies: [Comment], isReply: Bool) -> Item {
            let id = comment.id!.uuidString.lowercased()
            let own = member?.id == comment.memberID && comment.status != .deleted
            let editable = own && now.timeIntervalSince(comment.createdAt) <= CommentDesk.editWindow
            let reportable = member != nil && !own && comment.status == .visible
            let replyable = open && !isReply && comment.status == .visible
            let editing = editable && editing == comment.id
            let author = comment.status == .deleted ? "" : (comment.authorName.isEmpty ? edition.text("comments_member") : comment.authorName)
            return Item(
                anchor: "comment-\(id)", author: author,
                hasBadge: comment.status != .deleted && comment.badge != nil,
                badge: comment.badge.map { edition.text("comments_badge_\($0.rawValue)") } ?? "",
                time: dates.dayAndTime(comment.createdAt), iso: EditionDates.iso(comment.createdAt),
                html: CommentText.html(comment.body), edited: comment.editedAt != nil, pending: comment.status == .pending,
                deleted: comment.status == .deleted, isReply: isReply,
                mayEdit: editable && !editing, editURL: "\(base)?edit=\(id)#comment-\(id)",
                editing: editing, editAction: "\(base)/\(id)/edit", editText: editing ? comment.body : "", editFieldID: "edit-\(id)",
                mayDelete: own, deleteAction: "\(base)/\(id)/delete",
                mayReport: reportable, reportAction: "\(base)/\(id)/report",
                mayReply: replyable, replyAction: base, replyParent: id, replyFieldID: "reply-\(id)",
                actionContext: edition.text("comments_by", ["name": author.isEmpty ? edition.text("comments_member") : author]),
                replies: replies.map { item($0, replies: [], isReply: true) },
                hasActions: (editable && !editing) || own || reportable,
                hasReplies: !replies.isEmpty
            )
        }
        self.layout = layout
        t = edition.strings
        lang = edition.code
        dir = edition.direction.rawValue
        heading = thread.count > 0
            ? edition.text("comments_heading_count", ["count": EditionNumbers(edition: edition).format(thread.count)])
            : edition.text("comments_title")
        title = article.title
        articleURL = SiteURL(edition: edition).article(article.slug)
        items = thread.entries.map { item($0.comment, replies: $0.replies, isReply: false) }
        hasItems = !thread.entries.isEmpty
        self.mayRead = mayRead
        restricted = mayRead ? nil : edition.text("comments_restricted")
        self.joinURL = joinURL
        writeAction = mayWrite ? base : nil
        text = form?.replyTo == nil ? form?.text ?? "" : ""
        self.signInURL = signInURL
        pageTitle = edition.text("comments_page_title", ["title": article.title])
        self.refusal = mayRead ? refusal : nil
        self.csrf = csrf
        self.from = from
        self.error = error
        self.notice = notice
        longest = CommentDesk.longestComment
    }
}
