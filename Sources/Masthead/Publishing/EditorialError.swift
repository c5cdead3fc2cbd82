import Vapor

/// What can go wrong when staff change content, each with the status the admin answers with.
public enum EditorialError: Error, Equatable {
    /// Field name to a message the editor can act on; the form is shown again with them.
    case invalid([String: String])
    case forbidden
    case notFound

    public var status: HTTPResponseStatus {
        switch self {
        case .invalid: .unprocessableEntity
        case .forbidden: .forbidden
        case .notFound: .notFound
        }
    }

    var messageKey: String? {
        switch self {
        case .invalid: "error_invalid"
        case .forbidden: "error_staff_role"
        case .notFound: nil
        }
    }
}
