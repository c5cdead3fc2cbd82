import Fluent
import Foundation
import SQLKit

/// What editors do to a live story: open and close its coverage, keep its summary, and post,
/// edit, pin and remove updates. Whoever may publish the article may cover it live. Every
/// change raises the story's version in the same transaction (so several editors posting at
/// once get distinct places, in the order their posts commit), is audited, and reaches readers
/// at once.
struct LiveDesk: Sendable {
    struct UpdateInput: Sendable {
        var headline: String
        var markdown: String
        var keyEvent: Bool
        var pinned: Bool
    }

    let database: any Database
    let now: Date

    static let longestSummary = 5_000
    static let longestUpdate = 20_000
    static let longestHeadline = 200

    func open(_ article: Article, summary: String, by staff: Staff) async throws -> LiveStory {
        let articleID = try authorise(staff, article)
        try validate(summary: summary)
        return try await database.writeTransaction { db in
            if let story = try await LiveStory.find(articleID, on: db) {
                story.endedAt = nil
                story.setSummary(summary)
                try await story.save(on: db)
                try await finish("reopened live coverage", article, by: staff, on: db)
                return story
            }
            let story = LiveStory(articleID: articleID, summary: summary, startedAt: now)
            // Two editors opening at once on PostgreSQL: the second finds the key taken, and
            // its transaction is over; it says so rather than failing with a 500.
            do {
                try await story.create(on: db)
            } catch let error as any DatabaseError where error.isConstraintFailure {
                throw EditorialError.invalid(["summary": "Another editor has just opened live coverage of this story; reload the page."])
            }
            try await finish("opened live coverage", article, by: staff, on: db)
            return story
        }
    }

    func saveSummary(_ article: Article, summary: String, by staff: Staff) async throws {
        let articleID = try authorise(staff, article)
        try validate(summary: summary)
        try await database.writeTransaction { db in
            guard let story = try await LiveStory.find(articleID, on: db) else { throw EditorialError.notFound }
            story.setSummary(summary)
            try await story.save(on: db)
            try await finish("edited live summary", article, by: staff, on: db)
        }
    }

    func close(_ article: Article, by staff: Staff) async throws {
        let articleID = try authorise(staff, article)
        try await database.writeTransaction { db in
            guard let story = try await LiveStory.find(articleID, on: db) else { throw EditorialError.notFound }
            story.endedAt = now
            try await story.save(on: db)
            try await finish("closed live coverage", article, by: staff, on: db)
        }
    }

    func post(_ article: Article, _ input: UpdateInput, by staff: Staff) async throws -> LiveUpdate {
        let articleID = try authorise(staff, article)
        let input = try validated(input)
        return try await database.writeTransaction { db in
            let version = try await nextVersion(of: articleID, on: db)
            let update = LiveUpdate()
            update.articleID = articleID
            update.sequence = version
            update.version = version
            update.headline = input.headline
            update.setBody(input.markdown)
            update.keyEvent = input.keyEvent
            update.pinned = input.pinned
            update.authorName = try await signature(of: staff, on: article, db)
            update.staffID = staff.id
            update.createdAt = now
            update.updatedAt = now
            update.deleted = false
            try await update.create(on: db)
            try await finish("posted live update", article, by: staff, on: db)
            return update
        }
    }

    func edit(_ article: Article, update id: UUID, _ input: UpdateInput, by staff: Staff) async throws {
        let input = try validated(input)
        try await change(article, update: id, action: "edited live update", by: staff) { update in
            update.headline = input.headline
            update.setBody(input.markdown)
            update.keyEvent = input.keyEvent
            update.pinned = input.pinned
        }
    }

    func setPinned(_ article: Article, update id: UUID, _ pinned: Bool, by staff: Staff) async throws {
        try await change(article, update: id, action: pinned ? "pinned live update" : "unpinned live update", by: staff) { $0.pinned = pinned }
    }

    func remove(_ article: Article, update id: UUID, by staff: Staff) async throws {
        // The text goes with it: an update removed (a takedown, a mistake) must not stay in the
        // database, its backups and exports, to come back.
        try await change(article, update: id, action: "removed live update", by: staff) { update in
            update.deleted = true
            update.pinned = false
            update.keyEvent = false
            update.headline = ""
            update.markdown = ""
            update.html = ""
        }
    }

    private func change(_ article: Article, update id: UUID, action: String, by staff: Staff, _ apply: @escaping @Sendable (LiveUpdate) -> Void) async throws {
        let articleID = try authorise(staff, article)
        try await database.writeTransaction { db in
            let version = try await nextVersion(of: articleID, on: db)
            guard let update = try await LiveUpdate.find(id, on: db), update.articleID == articleID, !update.deleted else {
                throw EditorialError.notFound
            }
            apply(update)
            update.version = version
            update.updatedAt = now
            try await update.save(on: db)
            try await finish(action, article, by: staff, on: db)
        }
    }

    /// Raises the story's version, the first write of the transaction: it takes PostgreSQL's row
    /// lock on the story, so concurrent posts line up behind it (on SQLite the write transaction
    /// already holds the database's one write lock).
    private func nextVersion(of articleID: UUID, on db: any Database) async throws -> Int64 {
        let rows = try await (db as! any SQLDatabase).raw("""
            UPDATE live_stories SET version = version + 1 WHERE article_id = \(bind: articleID) RETURNING version
            """).all()
        guard let row = rows.first else { throw EditorialError.notFound }
        return try row.decode(column: "version", as: Int64.self)
    }

    private func finish(_ action: String, _ article: Article, by staff: Staff, on db: any Database) async throws {
        try await AuditLog(database: db, now: now).record(staff.email, action, "\(article.edition)/\(article.slug)")
        try await ContentGeneration.bump(on: db, purging: try await .articles([try article.requireID()], on: db))
    }

    /// Updates are signed with the staff member's name; an account without one (its name is
    /// its sign-in address) signs with the story's first byline, never with the address.
    private func signature(of staff: Staff, on article: Article, _ db: any Database) async throws -> String {
        let name = staff.name.trimmingCharacters(in: .whitespaces)
        if !name.isEmpty, !name.contains("@") { return name }
        let credit = try await ArticleAuthor.query(on: db).filter(\.$article.$id == article.requireID()).sort(\.$position).with(\.$author).first()
        return credit?.author.name ?? ""
    }

    private func authorise(_ staff: Staff, _ article: Article) throws -> UUID {
        guard StaffPolicy.mayPublish(staff, article) else { throw EditorialError.forbidden }
        return try article.requireID()
    }

    private func validate(summary: String) throws {
        if summary.count > Self.longestSummary || summary.utf8.count > Self.longestSummary * 8 {
            throw EditorialError.invalid(["summary": "Keep the summary under \(Self.longestSummary.formatted()) characters."])
        }
    }

    private func validated(_ input: UpdateInput) throws -> UpdateInput {
        var input = input
        input.headline = input.headline.trimmingCharacters(in: .whitespacesAndNewlines)
        input.markdown = input.markdown.trimmingCharacters(in: .whitespacesAndNewlines)
        var problems: [String: String] = [:]
        if input.markdown.isEmpty { problems["markdown"] = "Write the update." }
        // Counted in characters as editors count, and in bytes too: a few "characters" can be
        // built of thousands of combining marks.
        if input.markdown.count > Self.longestUpdate || input.markdown.utf8.count > Self.longestUpdate * 8 {
            problems["markdown"] = "Keep an update under \(Self.longestUpdate.formatted()) characters."
        }
        if input.headline.count > Self.longestHeadline || input.headline.utf8.count > Self.longestHeadline * 8 { problems["headline"] = "Keep the headline under \(Self.longestHeadline) characters." }
        if input.keyEvent && input.headline.isEmpty { problems["headline"] = "A key event needs a headline: the list of key events shows it." }
        if !problems.isEmpty { throw EditorialError.invalid(problems) }
        return input
    }
}
