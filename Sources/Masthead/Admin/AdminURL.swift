import Foundation
import Vapor

/// Every address in the admin, built from the same segments its controllers register routes
/// with, so a renamed route cannot leave a dead link behind (as `SiteURL` does for readers).
struct AdminURL {
    /// The constant parts of the admin's routes; parameters such as `:id` stay with the route.
    enum Segment {
        static let root: PathComponent = "admin"
        static let signIn: PathComponent = "signin"
        static let signOut: PathComponent = "signout"
        static let reset: PathComponent = "reset"
        static let password: PathComponent = "password"
        static let articles: PathComponent = "articles"
        static let new: PathComponent = "new"
        static let correction: PathComponent = "correction"
        static let translation: PathComponent = "translation"
        static let delete: PathComponent = "delete"
        static let readerView: PathComponent = "page"
        static let preview: PathComponent = "preview"
        static let revisions: PathComponent = "revisions"
        static let live: PathComponent = "live"
        static let updates: PathComponent = "updates"
        static let pin: PathComponent = "pin"
        static let breaking: PathComponent = "breaking"
        static let end: PathComponent = "end"
        static let restore: PathComponent = "restore"
        static let staff: PathComponent = "staff"
        static let role: PathComponent = "role"
        static let remove: PathComponent = "remove"
        static let resend: PathComponent = "resend"
        static let security: PathComponent = "security"
        static let totp: PathComponent = "totp"
        static let disable: PathComponent = "disable"
        static let audit: PathComponent = "audit"
        static let members: PathComponent = "members"
        static let membersCSV: PathComponent = "members.csv"
        static let settings: PathComponent = "settings"
        static let topics: PathComponent = "topics"
        static let authors: PathComponent = "authors"
        static let pages: PathComponent = "pages"
        static let editions: PathComponent = "editions"
        static let complimentary: PathComponent = "complimentary"
        static let revoke: PathComponent = "revoke"
        static let revenue: PathComponent = "revenue"
        static let plans: PathComponent = "plans"
        static let newsletters: PathComponent = "newsletters"
        static let comments: PathComponent = "comments"
        static let ban: PathComponent = "ban"
        static let unban: PathComponent = "unban"
        static let sends: PathComponent = "sends"
        static let cancel: PathComponent = "cancel"
        static let integrations: PathComponent = "integrations"
        static let tokens: PathComponent = "tokens"
        static let searchIndex: PathComponent = "search-index"
        static let backups: PathComponent = "backups"
        static let now: PathComponent = "now"
        static let rebuild: PathComponent = "rebuild"
    }

    /// The prefix of every admin address: the scope of the staff cookie, and what robots.txt
    /// keeps crawlers out of.
    static let root = path()
    /// The article list, where the admin opens.
    static let home = root
    static let signIn = path(Segment.signIn)
    static let signOut = path(Segment.signOut)
    static let reset = path(Segment.reset)
    static let password = path(Segment.password)
    static let newArticle = path(Segment.articles, Segment.new)
    static let staff = path(Segment.staff)
    static let security = path(Segment.security)
    static let changePassword = path(Segment.security, Segment.password)
    static let enableTOTP = path(Segment.security, Segment.totp)
    static let disableTOTP = path(Segment.security, Segment.totp, Segment.disable)
    static let audit = path(Segment.audit)
    static let members = path(Segment.members)
    static let membersCSV = path(Segment.membersCSV)
    static let settings = path(Segment.settings)
    static let topics = path(Segment.topics)
    static let pages = path(Segment.pages)
    static let authors = path(Segment.authors)
    static let editions = path(Segment.editions)
    static let preview = path(Segment.preview)
    static let domainGrants = path(Segment.complimentary)
    static let revenue = path(Segment.revenue)
    static let plans = path(Segment.plans)
    static let newPlan = path(Segment.plans, Segment.new)
    static func plan(_ id: UUID) -> String { path(Segment.plans, id) }
    static let integrations = path(Segment.integrations)
    static let tokens = path(Segment.tokens)
    static let searchIndex = path(Segment.searchIndex)
    static let backups = path(Segment.backups)
    static let backUpNow = path(Segment.backups, Segment.now)
    static let rebuildSearchIndex = path(Segment.searchIndex, Segment.rebuild)
    static func cancelSearchRebuild(_ id: UUID) -> String { path(Segment.searchIndex, id, Segment.cancel) }
    static func revokeToken(_ id: UUID) -> String { path(Segment.tokens, id, Segment.revoke) }
    static func revokeIntegration(_ id: UUID) -> String { path(Segment.integrations, id, Segment.revoke) }
    static let newsletters = path(Segment.newsletters)
    static let comments = path(Segment.comments)
    static let commentSettings = path(Segment.comments, Segment.settings)
    static func commentsOf(_ id: UUID) -> String { query(comments, "article=\(id.uuidString.lowercased())") }
    static func moderate(_ comment: UUID, _ action: CommentModeration.Action) -> String { path(Segment.comments, comment, PathComponent(stringLiteral: action.rawValue)) }
    static func banCommenter(_ member: UUID) -> String { path(Segment.comments, Segment.members, member, Segment.ban) }
    static func unbanCommenter(_ member: UUID) -> String { path(Segment.comments, Segment.members, member, Segment.unban) }
    static func articleComments(_ id: UUID) -> String { path(Segment.articles, id, Segment.comments) }
    static let newNewsletter = path(Segment.newsletters, Segment.new)
    static let newNewsletterSend = path(Segment.newsletters, Segment.sends, Segment.new)
    static func newsletter(_ id: UUID) -> String { path(Segment.newsletters, id) }
    static func newsletterSend(_ id: UUID) -> String { path(Segment.newsletters, Segment.sends, id) }
    static func cancelNewsletterSend(_ id: UUID) -> String { path(Segment.newsletters, Segment.sends, id, Segment.cancel) }
    static func revenue(range: String, lang: String = "en") -> String { query(revenue, "range=\(range)", lang == "en" ? "" : "lang=\(lang)") }

    static func signIn(notice: String) -> String { query(signIn, "notice=\(notice)") }
    static func password(token: String) -> String { query(password, "token=\(token)") }
    static func articles(edition: String) -> String { query(home, "edition=\(edition)") }

    static func article(_ id: UUID) -> String { path(Segment.articles, id) }
    static func articleCorrection(_ id: UUID) -> String { path(Segment.articles, id, Segment.correction) }
    static func articleTranslation(_ id: UUID) -> String { path(Segment.articles, id, Segment.translation) }
    static func deleteArticle(_ id: UUID) -> String { path(Segment.articles, id, Segment.delete) }
    static func readerView(_ id: UUID, as level: AccessLevel) -> String {
        query(path(Segment.articles, id, Segment.readerView), "as=\(level.rawValue)")
    }
    static func articleRevisions(_ id: UUID) -> String { path(Segment.articles, id, Segment.revisions) }
    static func liveDesk(_ id: UUID) -> String { path(Segment.articles, id, Segment.live) }
    static func liveUpdates(_ id: UUID) -> String { path(Segment.articles, id, Segment.live, Segment.updates) }
    static func liveUpdate(_ id: UUID, _ update: UUID) -> String { path(Segment.articles, id, Segment.live, Segment.updates, update) }
    static func pinLiveUpdate(_ id: UUID, _ update: UUID) -> String { path(Segment.articles, id, Segment.live, Segment.updates, update, Segment.pin) }
    static func deleteLiveUpdate(_ id: UUID, _ update: UUID) -> String { path(Segment.articles, id, Segment.live, Segment.updates, update, Segment.delete) }
    static func breakingNews(_ id: UUID) -> String { path(Segment.articles, id, Segment.breaking) }
    static func endBreakingNews(_ id: UUID) -> String { path(Segment.articles, id, Segment.breaking, Segment.end) }
    static func articleRevision(_ id: UUID, _ revision: UUID) -> String { path(Segment.articles, id, Segment.revisions, revision) }
    static func restoreRevision(_ id: UUID, _ revision: UUID) -> String {
        path(Segment.articles, id, Segment.revisions, revision, Segment.restore)
    }

    static func staffRole(_ id: UUID) -> String { path(Segment.staff, id, Segment.role) }
    static func removeStaff(_ id: UUID) -> String { path(Segment.staff, id, Segment.remove) }
    static func resendInvitation(_ id: UUID) -> String { path(Segment.staff, id, Segment.resend) }

    static func audit(page: Int) -> String { query(audit, "page=\(page)") }

    static func member(_ id: UUID) -> String { path(Segment.members, id) }
    static func signOutMember(_ id: UUID) -> String { path(Segment.members, id, Segment.signOut) }
    /// `filter` is the list's query string, already encoded, or empty.
    static func members(filter: String, page: Int) -> String { query(members, filter, "page=\(page)") }
    static func membersCSV(filter: String) -> String { query(membersCSV, filter) }
    static func grantToMember(_ id: UUID) -> String { path(Segment.members, id, Segment.complimentary) }
    static func revokeFromMember(_ id: UUID, grant: UUID) -> String { path(Segment.members, id, Segment.complimentary, grant, Segment.revoke) }
    static func revokeDomainGrant(_ id: UUID) -> String { path(Segment.complimentary, id, Segment.revoke) }

    static func topic(_ id: UUID) -> String { path(Segment.topics, id) }
    static func deleteTopic(_ id: UUID) -> String { path(Segment.topics, id, Segment.delete) }
    static func author(_ id: UUID) -> String { path(Segment.authors, id) }
    static func page(_ id: UUID) -> String { path(Segment.pages, id) }
    static func deletePage(_ id: UUID) -> String { path(Segment.pages, id, Segment.delete) }
    static func deleteAuthor(_ id: UUID) -> String { path(Segment.authors, id, Segment.delete) }

    /// Where a form sends the browser once it has done its work: the page, with the `done=`
    /// notice it then shows.
    static func withNotice(_ url: String, _ done: String) -> String { query(url, "done=\(done)") }

    private static func path(_ parts: any CustomStringConvertible...) -> String {
        parts.reduce("/\(Segment.root)") { "\($0)/\($1)" }
    }

    /// Parts are `name=value`, already safe in a URL; empty ones are left out.
    private static func query(_ url: String, _ parts: String...) -> String {
        let query = parts.filter { !$0.isEmpty }.joined(separator: "&")
        return query.isEmpty ? url : "\(url)?\(query)"
    }
}
