/// What sort of piece an article is; each kind has its own listing.
public enum ArticleKind: String, Codable, CaseIterable, Sendable {
    case news, analysis, memo, report

    /// The listing's path segment, as readers see it in URLs.
    public var pathSegment: String {
        switch self {
        case .news: "news"
        case .analysis: "analysis"
        case .memo: "memos"
        case .report: "reports"
        }
    }

    public init?(pathSegment: String) {
        guard let kind = Self.allCases.first(where: { $0.pathSegment == pathSegment }) else { return nil }
        self = kind
    }
}

public enum ArticleStatus: String, Codable, CaseIterable, Sendable {
    case draft, scheduled, published
}

/// Who may read an article's full text; the decision itself lives in `AccessPolicy`.
public enum Visibility: String, Codable, CaseIterable, Sendable {
    case `public`, members, paid
}

public enum TopicKind: String, Codable, CaseIterable, Sendable {
    case country, person, organisation, theme
}
