import Fluent
import Foundation

/// A tool or app reading the Content API: a website widget, a mobile app, a partner's feed.
/// Its key is shown once when it is made; only the key's digest is stored.
public final class APIIntegration: Model, @unchecked Sendable {
    public static let schema = "api_integrations"

    /// What the integration's readers may read of gated articles, decided by `AccessPolicy` as
    /// for a reader of that kind: a public key gets previews only.
    public enum Access: String, Codable, CaseIterable, Sendable {
        case `public`, members, paid

        var viewer: Viewer {
            switch self {
            case .public: .anonymous
            case .members: .freeMember
            case .paid: .paidMember
            }
        }
    }

    @ID(key: .id) public var id: UUID?
    @Field(key: "name") public var name: String
    @Field(key: "key_hash") var keyHash: String
    /// The key's last characters, so staff can tell keys apart without the key.
    @Field(key: "key_hint") public var keyHint: String
    @Enum(key: "access") public var access: Access
    @OptionalParent(key: "created_by") var createdBy: Staff?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @OptionalField(key: "revoked_at") public var revokedAt: Date?

    public init() {}
}
