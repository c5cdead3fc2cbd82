import Fluent
import Foundation

/// Creating, saving, publishing, scheduling, correcting and restoring articles: every change
/// staff make to content goes through here, checked against `StaffPolicy`, written in one
/// transaction with its revision and audit record, and followed by a content-generation bump
/// when readers could see the difference.
struct ArticleEditor: Sendable {
    enum Action: Equatable, Sendable {
        /// Keeps the status: a draft stays a draft, a published article is updated in place.
        case save
        case publish
        case schedule(Date)
        case unpublish

        var name: String {
            switch self {
            case .save: "saved"
            case .publish: "published"
            case .schedule: "scheduled"
            case .unpublish: "unpublished"
            }
        }
    }

    static let maximumBodyLength = 200_000

    let database: any Database
    let previewParagraphs: Int
    let editionCodes: [String]
    let now: Date
    /// The newsroom's, for times in messages to editors.
    var timeZone: TimeZone = .gmt
    /// How the change came, when not through the admin's pages (an API token's name), so the
    /// audit log tells a person's own edits from a tool's.
    var via: String? = nil

    private func audited(_ subject: String) -> String {
        via.map { "\(subject) (via \($0))" } ?? subject
    }

    func create(_ draft: ArticleDraft, newTopics: [NewTopic] = [], action: Action, by staff: Staff) async throws -> Article {
        let article = Article()
        article.status = .draft
        article.createdBy = staff.id
        return try await write(article, draft, newTopics: newTopics, action: action, by: staff)
    }

    /// Saves over an existing article. `basedOn` is the revision the editor's form was opened at:
    /// when someone has saved since, nothing is written and the editor is told, so that two
    /// people editing at once do not silently overwrite each other.
    func update(_ id: UUID, _ draft: ArticleDraft, newTopics: [NewTopic] = [], action: Action, basedOn revision: Int? = nil, by staff: Staff) async throws -> Article {
        let article = try await load(id)
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        if let revision, let latest = try await ArticleRevision.query(on: database).filter(\.$article.$id == id).sort(\.$number, .descending).first(),
           latest.number != revision {
            let time = latest.createdAt.formatted(Date.FormatStyle(date: .omitted, time: .shortened, timeZone: timeZone))
                + " " + (timeZone.abbreviation(for: latest.createdAt) ?? timeZone.identifier)
            throw EditorialError.invalid(["conflict": "\(latest.staffName) saved this article at \(time), after you opened it. Your version is below and nothing was saved; saving again replaces theirs (their version stays in Revisions)."])
        }
        return try await write(article, draft, newTopics: newTopics, action: action, by: staff)
    }

    /// The number of the article's latest revision, which an editor's form is based on.
    func latestRevision(of id: UUID) async throws -> Int? {
        try await ArticleRevision.query(on: database).filter(\.$article.$id == id).max(\.$number)
    }

    /// Brings back the content of an earlier revision as a new save (the status is kept).
    func restore(_ revisionID: UUID, by staff: Staff) async throws -> Article {
        guard let revision = try await ArticleRevision.find(revisionID, on: database) else { throw EditorialError.notFound }
        var draft = try revision.draft()
        let article = try await load(revision.$article.id)
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        let existingTopics = try await Topic.query(on: database).filter(\.$id ~~ draft.topicIDs).all().compactMap(\.id)
        draft.topicIDs = draft.topicIDs.filter(existingTopics.contains)
        return try await write(article, draft, newTopics: [], action: .save, by: staff, revisionLabel: "restored")
    }

    func addCorrection(to id: UUID, note text: String, by staff: Staff) async throws {
        let article = try await load(id)
        guard StaffPolicy.mayPublish(staff, article) else { throw EditorialError.forbidden }
        let note = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard article.status == .published else { throw EditorialError.invalid(["correction": "Only a published article can carry a correction."]) }
        guard !note.isEmpty, note.count <= 1000 else { throw EditorialError.invalid(["correction": "Write the correction note readers will see (up to 1,000 characters)."]) }
        try await database.writeTransaction { db in
            article.contentUpdatedAt = now
            try await article.save(on: db)
            try await Correction(articleID: try article.requireID(), note: note, staffName: staff.name, at: now).create(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "corrected", article.title)
            try await ContentGeneration.bump(on: db, purging: try await .articles([try article.requireID()], on: db))
        }
    }

    /// Deletes a draft that never went out, with its history. Anything readers have seen is
    /// unpublished instead, so its address, corrections and revisions are kept.
    func deleteDraft(_ id: UUID, by staff: Staff) async throws {
        let article = try await load(id)
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        guard article.status == .draft, article.publishedAt == nil else {
            throw EditorialError.invalid(["delete": "Only a draft that was never published can be deleted; unpublish this one instead."])
        }
        try await database.writeTransaction { db in
            try await article.delete(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "deleted draft", audited(article.title))
        }
    }

    /// Links an article to its version in another edition; both then list each other with `hreflang`.
    func linkTranslation(_ id: UUID, to otherID: UUID?, by staff: Staff) async throws {
        let article = try await load(id)
        guard StaffPolicy.mayEdit(staff, article) else { throw EditorialError.forbidden }
        try await database.writeTransaction { db in
            guard let otherID else {
                article.translationGroup = nil
                try await article.save(on: db)
                try await AuditLog(database: db, now: now).record(staff.email, "unlinked translation", article.title)
                try await ContentGeneration.bump(on: db, purging: .everything)
                return
            }
            guard let other = try await Article.find(otherID, on: db), other.id != article.id else { throw EditorialError.notFound }
            // Linking changes the other article too: its page starts naming this one.
            guard StaffPolicy.mayEdit(staff, other) else { throw EditorialError.forbidden }
            let group = other.translationGroup ?? article.translationGroup ?? UUID()
            let siblings = try await Article.query(on: db).filter(\.$translationGroup == group).all()
            if siblings.contains(where: { $0.edition == article.edition && $0.id != article.id })
                || other.edition == article.edition {
                throw EditorialError.invalid(["translation": "That group already has a version in this article's edition."])
            }
            article.translationGroup = group
            other.translationGroup = group
            try await article.save(on: db)
            try await other.save(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, "linked translation", "\(article.title) ↔ \(other.title)")
            try await ContentGeneration.bump(on: db, purging: try await .articles(siblings.compactMap(\.id) + [try article.requireID(), try other.requireID()], on: db))
        }
    }

    struct NewTopic: Equatable, Sendable {
        let name: String
        let kind: TopicKind
    }

    private func load(_ id: UUID) async throws -> Article {
        guard let article = try await Article.query(on: database).filter(\.$id == id)
            .with(\.$authorCredits).with(\.$topicLinks).with(\.$text).first()
        else { throw EditorialError.notFound }
        return article
    }

    private func write(
        _ article: Article, _ submitted: ArticleDraft, newTopics: [NewTopic], action: Action, by staff: Staff, revisionLabel: String? = nil
    ) async throws -> Article {
        let wasLive = article.id != nil && article.status == .published
        let previous = article.id == nil ? nil : try ArticleDraft(article)
        let normalizedDraft = normalized(submitted)
        let target = try targetState(for: article, action: action, by: staff, changesLiveContent: wasLive && previous != normalizedDraft)
        try await validate(normalizedDraft, article: article, publishing: target.status != .draft)
        if newTopics.contains(where: { !$0.name.trimmingCharacters(in: .whitespaces).isEmpty }), !StaffPolicy.may(staff.role, .createTopics) {
            throw EditorialError.invalid(["topics": "Contributors pick from the existing topics; ask an editor to add a new one."])
        }

        do {
            return try await save(article, normalizedDraft, previous: previous, wasLive: wasLive, target: target, newTopics: newTopics, action: action, by: staff, revisionLabel: revisionLabel)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Checked above, but another save can take the slug, or this article's next revision
            // number, between the check and the write.
            throw EditorialError.invalid(["conflict": "Another change was saved at the same moment, so nothing of yours was saved. Check the slug and save again."])
        }
    }

    private func save(
        _ article: Article, _ normalizedDraft: ArticleDraft, previous: ArticleDraft?, wasLive: Bool, target: (status: ArticleStatus, publishedAt: Date?),
        newTopics: [NewTopic], action: Action, by staff: Staff, revisionLabel: String?
    ) async throws -> Article {
        try await database.writeTransaction { db in
            var draft = normalizedDraft
            draft.topicIDs += try await topicIDs(for: newTopics, edition: draft.edition, on: db)
            if let previous, wasLive || article.publishedAt != nil, previous.slug != draft.slug {
                try await SlugRedirect.query(on: db).filter(\.$edition == previous.edition).filter(\.$slug == previous.slug).delete()
                try await SlugRedirect(edition: previous.edition, slug: previous.slug, articleID: try article.requireID()).create(on: db)
            }
            // Back at an earlier address of its own: that address is the article again, not a redirect.
            try await SlugRedirect.query(on: db).filter(\.$edition == draft.edition).filter(\.$slug == draft.slug).delete()
            draft.apply(to: article, previewParagraphs: previewParagraphs)
            if wasLive && target.status == .published && previous != draft {
                // Readers see the change: the page says when, and caches revalidate.
                article.contentUpdatedAt = now
            }
            article.status = target.status
            article.publishedAt = target.publishedAt
            try await article.save(on: db)
            try await article.saveText(on: db)
            let id = try article.requireID()

            try await ArticleAuthor.query(on: db).filter(\.$article.$id == id).delete()
            for (position, authorID) in draft.authorIDs.enumerated() {
                try await ArticleAuthor(articleID: id, authorID: authorID, position: position).create(on: db)
            }
            try await ArticleTopic.query(on: db).filter(\.$article.$id == id).delete()
            for topicID in Set(draft.topicIDs) {
                try await ArticleTopic(articleID: id, topicID: topicID).create(on: db)
            }
            let label = revisionLabel ?? (previous == nil ? "created" : action.name)
            let number = (try await ArticleRevision.query(on: db).filter(\.$article.$id == id).max(\.$number) ?? 0) + 1
            try await ArticleRevision(articleID: id, number: number, staffName: staff.name, action: label, draft: draft, at: now).create(on: db)
            try await AuditLog(database: db, now: now).record(staff.email, label == "saved" && article.status == .draft ? "saved draft" : label, audited(draft.title))
            if wasLive || article.status == .published {
                try await SearchIndexing(database: db).refresh(id)
                let formerly = wasLive ? previous.map { [$0] } ?? [] : []
                try await ContentGeneration.bump(on: db, purging: try await .articles([id], formerly: formerly, on: db))
            }
            return article
        }
    }

    /// The status and publication time an action leads to, refused when the role does not reach it.
    private func targetState(for article: Article, action: Action, by staff: Staff, changesLiveContent: Bool) throws -> (status: ArticleStatus, publishedAt: Date?) {
        let mayPublish = StaffPolicy.mayPublish(staff, article)
        switch action {
        case .save:
            if changesLiveContent && !mayPublish { throw EditorialError.forbidden }
            return (article.id == nil ? .draft : article.status, article.publishedAt)
        case .publish:
            guard mayPublish else { throw EditorialError.forbidden }
            let alreadyOut = article.status == .published ? article.publishedAt : nil
            return (.published, alreadyOut ?? now)
        case .schedule(let date):
            guard mayPublish else { throw EditorialError.forbidden }
            guard date > now else { throw EditorialError.invalid(["scheduleAt": "Choose a time in the future to schedule for."]) }
            return (.scheduled, date)
        case .unpublish:
            guard mayPublish else { throw EditorialError.forbidden }
            return (.draft, article.publishedAt)
        }
    }

    private func normalized(_ draft: ArticleDraft) -> ArticleDraft {
        var draft = draft
        draft.title = draft.title.trimmingCharacters(in: .whitespacesAndNewlines)
        draft.dek = draft.dek.trimmingCharacters(in: .whitespacesAndNewlines)
        draft.slug = draft.slug.trimmingCharacters(in: .whitespaces).lowercased()
        if draft.slug.isEmpty { draft.slug = Slug.from(draft.title) }
        draft.body = draft.body.replacingOccurrences(of: "\r\n", with: "\n")
        var seen = Set<UUID>()
        draft.authorIDs = draft.authorIDs.filter { seen.insert($0).inserted }
        for field in [\ArticleDraft.imageAlt, \.imageCaption, \.imageCredit, \.seoTitle, \.seoDescription] {
            draft[keyPath: field] = draft[keyPath: field].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return draft
    }

    private func validate(_ draft: ArticleDraft, article: Article, publishing: Bool) async throws {
        var problems: [String: String] = [:]
        if draft.title.isEmpty { problems["title"] = "Give the article a headline." }
        if draft.title.count > 300 { problems["title"] = "Keep the headline under 300 characters." }
        if draft.dek.count > 600 { problems["dek"] = "Keep the dek under 600 characters." }
        if !Slug.isValid(draft.slug) {
            problems["slug"] = "The slug may use lowercase Latin letters, digits and hyphens (up to 120)."
        } else if try await Article.query(on: database).filter(\.$edition == draft.edition).filter(\.$slug == draft.slug)
            .filter(\.$id != article.id ?? UUID()).count() > 0 {
            problems["slug"] = "Another article in this edition already uses this slug."
        } else if try await SlugRedirect.query(on: database).filter(\.$edition == draft.edition).filter(\.$slug == draft.slug)
            .filter(\.$article.$id != article.id ?? UUID()).count() > 0 {
            problems["slug"] = "This was another article's address, and links to it still lead there; choose another slug."
        }
        if !editionCodes.contains(draft.edition) { problems["edition"] = "Choose one of the site's editions." }
        if article.id != nil, article.publishedAt != nil, article.edition != draft.edition {
            problems["edition"] = "A published article stays in its edition; link a translation instead."
        }
        if draft.body.count > Self.maximumBodyLength { problems["body"] = "The body is longer than 200,000 characters." }
        if publishing && draft.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems["body"] = "Write the body before publishing." }
        if try await Author.query(on: database).filter(\.$id ~~ draft.authorIDs).count() != draft.authorIDs.count {
            problems["authors"] = "One of the chosen authors no longer exists."
        } else if publishing && draft.authorIDs.isEmpty {
            problems["authors"] = "Choose at least one author before publishing."
        }
        if try await Topic.query(on: database).filter(\.$id ~~ draft.topicIDs).count() != Set(draft.topicIDs).count {
            problems["topics"] = "One of the chosen topics no longer exists."
        }
        if draft.image != nil && publishing && draft.imageAlt.isEmpty {
            problems["imageAlt"] = "Describe the image for readers who cannot see it."
        }
        if draft.seoTitle.count > 200 { problems["seoTitle"] = "Keep the SEO title under 200 characters." }
        if draft.seoDescription.count > 400 { problems["seoDescription"] = "Keep the SEO description under 400 characters." }
        if !problems.isEmpty { throw EditorialError.invalid(problems) }
    }

    /// Existing topics named like the new ones, else new topics created with that name.
    private func topicIDs(for newTopics: [NewTopic], edition: String, on db: any Database) async throws -> [UUID] {
        var ids: [UUID] = []
        for new in newTopics {
            let name = new.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, name.count <= 120 else { continue }
            if let existing = try await TopicName.query(on: db).filter(\.$name == name).first() {
                ids.append(existing.$topic.id)
                continue
            }
            let base = Slug.from(name).isEmpty ? "topic" : Slug.from(name)
            if let existing = try await Topic.query(on: db).filter(\.$slug == base).first(), let id = existing.id {
                ids.append(id)
                continue
            }
            var slug = base
            var suffix = 2
            while try await Topic.query(on: db).filter(\.$slug == slug).count() > 0 {
                slug = "\(base)-\(suffix)"
                suffix += 1
            }
            let topic = Topic(slug: slug, kind: new.kind)
            try await topic.create(on: db)
            let id = try topic.requireID()
            try await TopicName(topicID: id, edition: edition, name: name, description: "").create(on: db)
            ids.append(id)
        }
        return ids
    }
}
