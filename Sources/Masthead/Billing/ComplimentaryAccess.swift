import Fluent
import Foundation

/// Paid access a staff member gave rather than a reader bought: to one member, or to every
/// member whose (emailed-link-proven) address is at a domain or one of its subdomains.
final class ComplimentaryAccess: Model, @unchecked Sendable {
    static let schema = "complimentary_access"

    @ID(key: .id) var id: UUID?
    @OptionalParent(key: "member_id") var member: Member?
    @OptionalField(key: "email_domain") var emailDomain: String?
    @Field(key: "until") var until: Date
    @Field(key: "note") var note: String
    /// The staff member's address, so the record outlives the account.
    @Field(key: "granted_by") var grantedBy: String
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(memberID: UUID?, emailDomain: String?, until: Date, note: String, grantedBy: String, createdAt: Date) {
        self.$member.id = memberID
        self.emailDomain = emailDomain
        self.until = until
        self.note = note
        self.grantedBy = grantedBy
        self.createdAt = createdAt
    }

    /// Whether a domain grant covers an address: the domain itself or any subdomain of it.
    static func domain(_ domain: String, covers email: String) -> Bool {
        guard let at = email.lastIndex(of: "@") else { return false }
        let host = email[email.index(after: at)...]
        return host == domain || host.hasSuffix("." + domain)
    }

    /// A domain as staff may type it ("Example.AC.uk", "@example.ac.uk"), checked and lower-cased;
    /// nil when it is not a domain name with at least one dot.
    static func normalizedDomain(_ text: String) -> String? {
        var domain = text.trimmingCharacters(in: .whitespaces).lowercased()
        if domain.hasPrefix("@") { domain.removeFirst() }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard domain.count <= 253, labels.count >= 2,
              labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } })
        else { return nil }
        return domain
    }
}
