import Fluent
import Foundation

/// Topics and authors as editors manage them: each change is checked against the role, written
/// with its audit record, and bumps the content generation because pages name both.
struct Taxonomy: Sendable {
    struct TopicInput: Sendable {
        var slug: String
        var kind: TopicKind
        /// Name and description per edition code; an edition with an empty name has no entry.
        var names: [String: (name: String, description: String)]
        /// Other names and spellings, one per entry.
        var aliases: [String] = []
    }

    struct AuthorInput: Sendable {
        var slug: String
        var name: String
        var bio: String
        /// The biography in other editions' languages, by edition code.
        var bios: [String: String] = [:]
        var photoPath: String?
    }

    let database: any Database
    let now: Date

    @discardableResult
    func saveTopic(_ id: UUID?, _ input: TopicInput, by staff: Staff) async throws -> Topic {
        guard StaffPolicy.may(staff.role, .manageTopicsAndAuthors) else { throw EditorialError.forbidden }
        let names = input.names.filter { !$0.value.name.trimmingCharacters(in: .whitespaces).isEmpty }
        let typed = input.slug.trimmingCharacters(in: .whitespaces).lowercased()
        let fromName = names.sorted { $0.key < $1.key }.lazy.map { Slug.from($0.value.name) }.first { !$0.isEmpty } ?? ""
        let slug = typed.isEmpty ? fromName : typed
        var problems: [String: String] = [:]
        if names.isEmpty { problems["names"] = "Give the topic a name in at least one edition." }
        if !Slug.isValid(slug) {
            problems["slug"] = "The slug may use lowercase Latin letters, digits and hyphens."
        } else if try await Topic.query(on: database).filter(\.$slug == slug).filter(\.$id != id ?? UUID()).count() > 0 {
            problems["slug"] = "Another topic already uses this slug."
        }
        if names.values.contains(where: { $0.name.count > 120 || $0.description.count > 1000 }) {
            problems["names"] = "Keep names under 120 characters and descriptions under 1,000."
        }
        let aliases = input.aliases.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if aliases.count > 50 || aliases.contains(where: { $0.count > 120 }) {
            problems["aliases"] = "Give up to 50 other names, one per line, each under 120 characters."
        }
        if !problems.isEmpty { throw EditorialError.invalid(problems) }
        return try await database.writeTransaction { db in
            let topic: Topic
            if let id {
                guard let existing = try await Topic.find(id, on: db) else { throw EditorialError.notFound }
                topic = existing
            } else {
                topic = Topic(slug: slug, kind: input.kind)
            }
            topic.slug = slug
            topic.kind = input.kind
            topic.aliases = aliases.joined(separator: "\n")
            try await topic.save(on: db)
            let topicID = try topic.requireID()
            try await TopicName.query(on: db).filter(\.$topic.$id == topicID).delete()
            for (edition, entry) in names {
                try await TopicName(topicID: topicID, edition: edition, name: entry.name.trimmingCharacters(in: .whitespaces),
                                    description: entry.description.trimmingCharacters(in: .whitespacesAndNewlines)).create(on: db)
            }
            try await AuditLog(database: db, now: now).record(staff.email, id == nil ? "created topic" : "edited topic", slug)
            try await SearchIndexing(database: db).refresh(topicID: topicID)
            try await ContentGeneration.bump(on: db, purging: .everything)
            return topic
        }
    }

    func deleteTopic(_ id: UUID, by staff: Staff) async throws {
        guard StaffPolicy.may(staff.role, .manageTopicsAndAuthors) else { throw EditorialError.forbidden }
        guard let topic = try await Topic.find(id, on: database) else { throw EditorialError.notFound }
        try await database.writeTransaction { db in
            let filed = try await ArticleTopic.query(on: db).filter(\.$topic.$id == id).all().map(\.$article.id)
            try await topic.delete(on: db)
            try await SearchIndexing(database: db).refresh(filed)
            try await AuditLog(database: db, now: now).record(staff.email, "deleted topic", topic.slug)
            try await ContentGeneration.bump(on: db, purging: .everything)
        }
    }

    @discardableResult
    func saveAuthor(_ id: UUID?, _ input: AuthorInput, by staff: Staff) async throws -> Author {
        guard StaffPolicy.may(staff.role, .manageTopicsAndAuthors) else { throw EditorialError.forbidden }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        let typed = input.slug.trimmingCharacters(in: .whitespaces).lowercased()
        let slug = typed.isEmpty ? Slug.from(name) : typed
        var problems: [String: String] = [:]
        if name.isEmpty || name.count > 120 { problems["name"] = "Give the author's name, as bylines show it." }
        if !Slug.isValid(slug) {
            problems["slug"] = "The slug may use lowercase Latin letters, digits and hyphens; names in other scripts need one typed."
        } else if try await Author.query(on: database).filter(\.$slug == slug).filter(\.$id != id ?? UUID()).count() > 0 {
            problems["slug"] = "Another author already uses this slug."
        }
        if ([input.bio] + input.bios.values).contains(where: { $0.count > 2000 }) { problems["bio"] = "Keep each biography under 2,000 characters." }
        if !problems.isEmpty { throw EditorialError.invalid(problems) }
        return try await database.writeTransaction { db in
            let author: Author
            if let id {
                guard let existing = try await Author.find(id, on: db) else { throw EditorialError.notFound }
                author = existing
            } else {
                author = Author(slug: slug, name: name, bio: "")
            }
            author.slug = slug
            author.name = name
            author.bio = input.bio.trimmingCharacters(in: .whitespacesAndNewlines)
            author.bios = input.bios.mapValues { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.value.isEmpty }
            if let photo = input.photoPath { author.photoPath = photo }
            try await author.save(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, id == nil ? "created author" : "edited author", name)
            try await SearchIndexing(database: db).refresh(authorID: try author.requireID())
            try await ContentGeneration.bump(on: db, purging: .everything)
            return author
        }
    }

    /// Authors with bylines stay: their articles would lose their credit.
    func deleteAuthor(_ id: UUID, by staff: Staff) async throws {
        guard StaffPolicy.may(staff.role, .manageTopicsAndAuthors) else { throw EditorialError.forbidden }
        guard let author = try await Author.find(id, on: database) else { throw EditorialError.notFound }
        if try await ArticleAuthor.query(on: database).filter(\.$author.$id == id).count() > 0 {
            throw EditorialError.invalid(["delete": "\(author.name) has bylines; remove them from those articles first."])
        }
        try await database.writeTransaction { db in
            try await author.delete(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "deleted author", author.name)
            try await ContentGeneration.bump(on: db, purging: .everything)
        }
    }
}
