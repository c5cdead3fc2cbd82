import Fluent
import Foundation

/// A reader on their way to pay: who, for which price, and which page to bring them back to.
/// Its id travels to the provider as the checkout's reference and returns on the success URL.
final class Checkout: Model, @unchecked Sendable {
    static let schema = "checkouts"

    @ID(key: .id) var id: UUID?
    @Parent(key: "member_id") var member: Member
    @Parent(key: "price_id") var price: PlanPrice
    @Field(key: "return_path") var returnPath: String
    /// The edition the reader chose in, for the pages and mail that follow.
    @Field(key: "edition") var edition: String
    @OptionalField(key: "provider_session_id") var providerSessionID: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "completed_at") var completedAt: Date?

    init() {}

    init(memberID: UUID, priceID: UUID, returnPath: String, edition: String, createdAt: Date) {
        self.$member.id = memberID
        self.$price.id = priceID
        self.returnPath = returnPath
        self.edition = edition
        self.createdAt = createdAt
    }
}
