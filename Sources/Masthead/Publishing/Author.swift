import Fluent
import Foundation

public final class Author: Model, @unchecked Sendable {
    public static let schema = "authors"

    @ID(key: .id) public var id: UUID?
    @Field(key: "slug") public var slug: String
    @Field(key: "name") public var name: String
    @Field(key: "bio") public var bio: String
    @OptionalField(key: "photo_path") public var photoPath: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}

    public init(slug: String, name: String, bio: String, photoPath: String? = nil) {
        self.slug = slug
        self.name = name
        self.bio = bio
        self.photoPath = photoPath
    }
}
