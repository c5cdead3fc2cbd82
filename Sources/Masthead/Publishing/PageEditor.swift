import Fluent
import Foundation

/// Creating, editing and deleting standing pages (editors and above), each change recorded
/// in the audit log and made visible to readers at once.
struct PageEditor: Sendable {
    struct Input: Sendable {
        var edition: String
        var slug: String
        var title: String
        var markdown: String
        var published: Bool
    }

    let database: any Database
    let editions: EditionCatalog
    let now: Date

    func save(_ id: UUID?, _ input: Input, by staff: Staff) async throws -> Page {
        guard StaffPolicy.may(staff.role, .managePages) else { throw EditorialError.forbidden }
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        let typed = input.slug.trimmingCharacters(in: .whitespaces).lowercased()
        let slug = typed.isEmpty ? Slug.from(title) : typed
        var problems: [String: String] = [:]
        if title.isEmpty || title.count > 200 { problems["title"] = "Give the page a title of up to 200 characters." }
        if editions[input.edition] == nil { problems["edition"] = "Choose one of the site's editions." }
        if !Slug.isValid(slug) {
            problems["slug"] = "The slug may use lowercase Latin letters, digits and hyphens."
        } else if try await Page.query(on: database).filter(\.$edition == input.edition).filter(\.$slug == slug).filter(\.$id != id ?? UUID()).count() > 0 {
            problems["slug"] = "Another page of this edition already uses this slug."
        }
        if input.markdown.count > 200_000 { problems["markdown"] = "Keep the page under 200,000 characters." }
        if !problems.isEmpty { throw EditorialError.invalid(problems) }
        do {
            return try await write(id, input, slug: slug, title: title, by: staff)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Another editor took the slug between the check and the save.
            throw EditorialError.invalid(["slug": "Another page of this edition already uses this slug."])
        }
    }

    private func write(_ id: UUID?, _ input: Input, slug: String, title: String, by staff: Staff) async throws -> Page {
        try await database.writeTransaction { db in
            let page: Page
            if let id {
                guard let existing = try await Page.find(id, on: db) else { throw EditorialError.notFound }
                page = existing
                page.edition = input.edition
                page.slug = slug
                page.title = title
                page.published = input.published
                page.updatedAt = now
                page.setBody(markdown: input.markdown)
            } else {
                page = Page(edition: input.edition, slug: slug, title: title, markdown: input.markdown, published: input.published, at: now)
            }
            try await page.save(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, id == nil ? "created page" : "edited page", "\(input.edition)/\(slug)")
            try await ContentGeneration.bump(on: db, purging: .everything)
            return page
        }
    }

    func delete(_ id: UUID, by staff: Staff) async throws {
        guard StaffPolicy.may(staff.role, .managePages) else { throw EditorialError.forbidden }
        guard let page = try await Page.find(id, on: database) else { throw EditorialError.notFound }
        try await database.writeTransaction { db in
            try await page.delete(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "deleted page", "\(page.edition)/\(page.slug)")
            try await ContentGeneration.bump(on: db, purging: .everything)
        }
    }
}
