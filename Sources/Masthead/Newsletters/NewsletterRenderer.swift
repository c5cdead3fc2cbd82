import Fluent
import Foundation

/// Each list's email for a send, per kind of reader, rendered once and kept while the send goes
/// out: a hundred thousand recipients share a handful of renderings, each copy differing only
/// in its unsubscribe link.
actor NewsletterRenderer {
    private struct Key: Hashable {
        let send: UUID
        let newsletter: UUID
        let access: AccessLevel
        let generation: Int64
    }

    private let pages: SitePages
    private let database: any Database
    private var emails: [Key: NewsletterEmail] = [:]
    private var sends: [UUID: NewsletterSend] = [:]
    private var newsletters: [UUID: Newsletter] = [:]

    init(pages: SitePages, database: any Database) {
        self.pages = pages
        self.database = database
    }

    func email(send sendID: UUID, newsletter newsletterID: UUID, access: AccessLevel, generation: Int64) async throws -> NewsletterEmail {
        let key = Key(send: sendID, newsletter: newsletterID, access: access, generation: generation)
        if let email = emails[key] { return email }
        guard let send = try await send(sendID), let newsletter = try await newsletter(newsletterID) else {
            throw NewsletterSends.Problem(description: "the send or its newsletter is gone")
        }
        let email = try await Self.render(send, newsletter: newsletter, access: access, pages: pages, database: database)
        emails[key] = email
        return email
    }

    /// Forgets finished sends' renderings, and the lists as they were (a sender changed since).
    func forget(except live: Set<UUID>) {
        emails = emails.filter { live.contains($0.key.send) }
        sends = sends.filter { live.contains($0.key) }
        newsletters = [:]
    }

    static func render(_ send: NewsletterSend, newsletter: Newsletter, access: AccessLevel, pages: SitePages, database: any Database) async throws -> NewsletterEmail {
        let edition = pages.theme.editions[newsletter.edition] ?? pages.theme.editions.defaultEdition
        let issue = try await NewsletterIssue.compose(send, edition: edition, access: access, pages: pages, on: database)
        let publicURL = pages.settings.publicURL
        let header = NewsletterEmail.NewsletterHeader(
            name: newsletter.name, slug: newsletter.slug,
            from: .init(email: newsletter.senderEmail, name: newsletter.senderName.isEmpty ? nil : newsletter.senderName),
            replyTo: newsletter.replyTo, listHost: URL(string: publicURL)?.host ?? "localhost",
            viewURL: publicURL + NewsletterLinks.view(send: try send.requireID())
        )
        return NewsletterEmail(issue: issue, header: header, siteName: pages.settings.siteName, publicURL: publicURL)
    }

    private func send(_ id: UUID) async throws -> NewsletterSend? {
        if let send = sends[id] { return send }
        let send = try await NewsletterSend.find(id, on: database)
        sends[id] = send
        return send
    }

    private func newsletter(_ id: UUID) async throws -> Newsletter? {
        if let newsletter = newsletters[id] { return newsletter }
        let newsletter = try await Newsletter.find(id, on: database)
        newsletters[id] = newsletter
        return newsletter
    }
}
