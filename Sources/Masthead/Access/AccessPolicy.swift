import Foundation

/// Who is looking at a page, as far as access is concerned.
public enum Viewer: Sendable, Equatable {
    case anonymous
    case freeMember
    case paidMember

    /// The variant of a cached page this viewer may be served: pages are cached per access
    /// level, never per person.
    public var accessLevel: AccessLevel {
        switch self {
        case .anonymous: .anonymous
        case .freeMember: .member
        case .paidMember: .paid
        }
    }
}

public enum AccessLevel: String, Sendable, Hashable {
    case anonymous, member, paid
}

/// How many gated articles a viewer may still open for free in the current window.
/// Counted on the server by the caller; zero means no metering.
public struct Meter: Sendable, Equatable {
    public var remaining: Int
    public static let none = Meter(remaining: 0)
    public init(remaining: Int) { self.remaining = remaining }
}

/// Proof that a viewer may read an article's gated text. Only `AccessPolicy` can make one.
public struct FullTextGrant: Sendable {
    let articleID: UUID?
    fileprivate init(articleID: UUID?) { self.articleID = articleID }
}

/// What a viewer gets of an article.
public enum Access: Sendable {
    case full(FullTextGrant)
    /// The preview only, and why: so the page can invite the reader to join or to upgrade.
    case preview(PaywallReason)

    public var isFull: Bool {
        if case .full = self { return true }
        return false
    }
}

public enum PaywallReason: Sendable, Equatable {
    /// Members-only or paid text seen by someone not signed in.
    case signInOrJoin
    /// Paid text seen by a free member.
    case upgrade
}

/// The one place that decides whether a viewer reads an article in full.
public enum AccessPolicy {
    public static func decide(article: Article, viewer: Viewer, meter: Meter) -> Access {
        if let reason = paywallReason(visibility: article.visibility, viewer: viewer), meter.remaining == 0 {
            return .preview(reason)
        }
        return .full(FullTextGrant(articleID: article.id))
    }

    /// Whether a viewer sees an article's comments: those who may read it outright (a metered
    /// read does not count), since a comment may quote what it discusses.
    public static func mayReadComments(on article: Article, viewer: Viewer) -> Bool {
        paywallReason(visibility: article.visibility, viewer: viewer) == nil
    }

    /// Whether a viewer may write on an article: a signed-in member who may read its comments
    /// (so paid members only, on a paid article).
    public static func mayComment(on article: Article, viewer: Viewer) -> Bool {
        viewer != .anonymous && mayReadComments(on: article, viewer: viewer)
    }

    /// Why a viewer may not read text of this visibility outright, or nil when they may.
    /// Asked before the page cache, to know whether the meter has a say.
    public static func paywallReason(visibility: Visibility, viewer: Viewer) -> PaywallReason? {
        switch (visibility, viewer) {
        case (.public, _), (.members, .freeMember), (.members, .paidMember), (.paid, .paidMember): nil
        case (.members, .anonymous), (.paid, .anonymous): .signInOrJoin
        case (.paid, .freeMember): .upgrade
        }
    }
}
