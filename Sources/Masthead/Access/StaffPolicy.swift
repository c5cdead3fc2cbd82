import Foundation

/// What a staff member may do in the admin: the one place each role's reach is decided.
///
/// Contributors write drafts of their own; authors also publish their own; editors publish and
/// correct anyone's and manage topics and authors; admins manage staff, members and settings;
/// the owner also manages billing and other owners.
public enum StaffPolicy {
    public enum Power: Sendable {
        case writeArticles
        /// Adding a topic while writing: it gets a public page, so not for contributors.
        case createTopics
        case manageTopicsAndAuthors
        /// The standing pages: about us, contact, ethics, privacy.
        case managePages
        case manageStaff
        case viewMembers
        case manageSettings
        case manageBilling
        /// Give members paid access without payment, one by one or by email domain.
        case grantComplimentaryAccess
        case viewAuditLog
        /// Write and send newsletter issues.
        case sendNewsletters
        /// Set up the lists themselves: names, senders, who gets them.
        case manageNewsletters
        /// Make and revoke the keys apps and partners read the Content API with.
        case manageIntegrations
        /// Rebuild the search index, a long job that loads the database.
        case rebuildSearchIndex
        /// See the backups and take one now.
        case manageBackups
        /// Put a breaking-news banner up or take it down, with its alerts to every reader who
        /// asked for them.
        case flagBreakingNews
        /// Approve, hide and delete members' comments, bar members from commenting, keep the
        /// word list, and open or close comments.
        case moderateComments
    }

    public static func may(_ role: StaffRole, _ power: Power) -> Bool {
        switch power {
        case .writeArticles: true
        case .createTopics: role >= .author
        case .manageTopicsAndAuthors, .managePages, .sendNewsletters, .moderateComments, .flagBreakingNews: role >= .editor
        case .manageStaff, .viewMembers, .manageSettings, .viewAuditLog, .grantComplimentaryAccess, .manageNewsletters, .manageIntegrations, .rebuildSearchIndex, .manageBackups: role >= .admin
        case .manageBilling: role == .owner
        }
    }

    /// Editing an article's content. A contributor's piece is theirs only until it goes out.
    public static func mayEdit(_ staff: Staff, _ article: Article) -> Bool {
        switch staff.role {
        case .contributor: isOwn(article, staff) && article.status == .draft
        case .author: isOwn(article, staff)
        case .editor, .admin, .owner: true
        }
    }

    /// Publishing, scheduling, unpublishing and correcting.
    public static func mayPublish(_ staff: Staff, _ article: Article) -> Bool {
        switch staff.role {
        case .contributor: false
        case .author: isOwn(article, staff)
        case .editor, .admin, .owner: true
        }
    }

    /// Which roles a staff member may give others: never one above their own, and only an
    /// owner makes owners.
    public static func assignableRoles(by role: StaffRole) -> [StaffRole] {
        guard may(role, .manageStaff) else { return [] }
        return StaffRole.allCases.filter { $0 < role || role == .owner }
    }

    /// Whether one staff member may change another's role or remove them.
    public static func mayManage(_ manager: Staff, _ other: Staff) -> Bool {
        may(manager.role, .manageStaff) && manager.id != other.id && (other.role < manager.role || manager.role == .owner)
    }

    private static func isOwn(_ article: Article, _ staff: Staff) -> Bool {
        article.createdBy != nil && article.createdBy == staff.id
    }
}

extension StaffRole: Comparable {
    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: StaffRole, rhs: StaffRole) -> Bool {
        lhs.rank < rhs.rank
    }
}
