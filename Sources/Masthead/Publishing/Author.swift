import Fluent
import Foundation

public final class Author: Model, @unchecked Sendable {
    public static let schema = "authors"

    @ID(key: .id) public var id: UUID?
    @Field(key: "slug") public var slug: String
    @Field(key: "name") public var name: String
    @Field(key: "bio") public var bio: String
    /// The biography in other editions' languages: a small JSON object, edition code to text.
    @Field(key: "bios") var biosJSON: String
    @OptionalField(key: "photo_path") public var photoPath: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}

    public init(slug: String, name: String, bio: String, photoPath: String? = nil) {
        self.slug = slug
        self.name = name
        self.bio = bio
        self.biosJSON = "{}"
        self.photoPath = photoPath
    }

    public var bios: [String: String] {
        get { (try? JSONDecoder().decode([String: String].self, from: Data(biosJSON.utf8))) ?? [:] }
        set { biosJSON = String(decoding: (try? JSONEncoder().encode(newValue)) ?? Data("{}".utf8), as: UTF8.self) }
    }

    /// The biography in an edition's language, else the one written first.
    public func bio(in edition: String) -> String {
        bios[edition].flatMap { $0.isEmpty ? nil : $0 } ?? bio
    }
}
