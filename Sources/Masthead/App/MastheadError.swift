import Vapor

/// Errors a reader can cause, each with the status it answers with and a message safe to show.
public enum SiteError: Error, Equatable {
    case notFound
    /// The key of a message in the edition's translation file, so the reader gets it in their language.
    case badRequest(messageKey: String)
    case forbidden(messageKey: String)
    /// A service Masthead depends on (the payment provider) failed; nothing was changed.
    case badGateway(messageKey: String)
    /// The page lives at another address for good (an article whose slug changed).
    case movedPermanently(to: String)

    public var status: HTTPResponseStatus {
        switch self {
        case .notFound: .notFound
        case .badRequest: .badRequest
        case .forbidden: .forbidden
        case .badGateway: .badGateway
        case .movedPermanently: .movedPermanently
        }
    }
}
