import Fluent
import Foundation
import Logging
import SQLKit

/// Keeps the index in step with what is published: an article is filed when it is published
/// or changed, and taken out when it is unpublished, always in the transaction that made the
/// change. Drafts and scheduled articles are never filed.
struct SearchIndexing: Sendable {
    let database: any Database
    var index: any SearchIndex { SearchIndexes.forDatabase(database) }

    /// Files the article as it now stands, or takes it out if it is not published.
    func refresh(_ articleID: UUID) async throws {
        try await refresh([articleID])
    }

    func refresh(_ articleIDs: some Sequence<UUID>) async throws {
        let ids = Array(Set(articleIDs))
        guard !ids.isEmpty else { return }
        try await Self.lock(ids, on: database)
        let sources = try await Self.sources(ids, on: database)
        let filed = Set(sources.map(\.articleID))
        try await index.remove(articleIDs: ids.filter { !filed.contains($0) }, on: sql)
        try await file(sources)
    }

    /// Files again every published article filed under a topic or credited to an author whose
    /// names changed.
    func refresh(topicID: UUID) async throws {
        try await refresh(ArticleTopic.query(on: database).filter(\.$topic.$id == topicID).all().map(\.$article.id))
    }

    func refresh(authorID: UUID) async throws {
        try await refresh(ArticleAuthor.query(on: database).filter(\.$author.$id == authorID).all().map(\.$article.id))
    }

    /// How far a rebuild has gone: `done` of `total` published articles, the last one filed
    /// being `lastFiled`.
    struct RebuildProgress: Sendable {
        let done: Int
        let total: Int
        let lastFiled: RebuildCursor?
    }

    /// An article's place in the order a rebuild files in: oldest first, then by id.
    struct RebuildCursor: Sendable, Comparable {
        let publishedAt: Date
        let articleID: UUID

        static func < (lhs: RebuildCursor, rhs: RebuildCursor) -> Bool {
            lhs.publishedAt != rhs.publishedAt ? lhs.publishedAt < rhs.publishedAt : lhs.articleID.uuidString < rhs.articleID.uuidString
        }
    }

    /// Files every published article again, a batch per transaction, reporting its progress
    /// after each, then (`tidying`) takes out what is no longer published and tidies the index.
    /// Readers search the old rows of each article until its batch lands: the index is never
    /// empty meanwhile. A rebuild that stopped part way goes on from where it stopped when
    /// given its progress (`resuming`). A `progress` that throws stops the rebuild.
    func rebuild(
        batchSize: Int = 1000, lanes: Int? = nil, resuming: RebuildProgress? = nil,
        progress: @Sendable (RebuildProgress) async throws -> Void = { _ in }, tidying: @Sendable () async throws -> Void = {}
    ) async throws -> Int {
        let total = try await Article.query(on: database).filter(\.$status == .published).count()
        let start = RebuildProgress(done: min(resuming?.done ?? 0, total), total: total, lastFiled: resuming?.lastFiled)
        let done: Int
        try await index.beginRebuild(on: sql)
        do {
            try await progress(start)
            done = try await fileAll(batchSize: batchSize, lanes: lanes, from: start, progress: progress)
            try await tidying()
            try await index.prune(on: sql)
        } catch {
            try? await index.endRebuild(completed: false, on: sql)
            throw error
        }
        try await index.endRebuild(completed: true, on: sql)
        return done
    }

    private func fileAll(batchSize: Int, lanes: Int?, from start: RebuildProgress, progress: @Sendable (RebuildProgress) async throws -> Void) async throws -> Int {
        var done = start.done
        let batches = try await Self.publishedInFilingOrder(after: start.lastFiled, on: sql).chunked(into: batchSize)
        // Most of a batch's time on PostgreSQL is the database's, on one core: unless told
        // otherwise, the next batch is filed while the last one still is, each on a connection
        // of its own (a fifth less time at 100,000 articles). SQLite has one writer. Each batch
        // is reported in order, once it and all before it are filed, so that every article up
        // to the last one reported is.
        let lanes = max(1, lanes ?? (sql.dialect.name == "postgresql" ? 2 : 1))
        try await withThrowingTaskGroup(of: Int.self) { filing in
            var started = 0, reported = 0, filed = Set<Int>()
            while reported < batches.count {
                while started < batches.count, started - reported < lanes {
                    let index = started, ids = batches[index].map(\.articleID)
                    filing.addTask { try await fileBatch(ids); return index }
                    started += 1
                }
                guard let index = try await filing.next() else { break }
                filed.insert(index)
                while filed.remove(reported) != nil {
                    done += batches[reported].count
                    try await progress(RebuildProgress(done: min(done, start.total), total: start.total, lastFiled: batches[reported].last))
                    reported += 1
                }
            }
        }
        return done
    }

    /// Each batch is read in the transaction that files it, with the articles locked, so that an
    /// edit made meanwhile (public to paid, say) is never overwritten by what was read before
    /// it; one unpublished since the order was read is not filed.
    private func fileBatch(_ ids: [UUID]) async throws {
        try await database.writeTransaction { db in
            try await Self.lock(ids, on: db)
            try await SearchIndexing(database: db).file(try await Self.sources(ids, on: db), listingTerms: false)
        }
    }

    /// The published articles after `cursor`, oldest first. Filed in that order, the rows of
    /// PostgreSQL's table lie in the order of their keys, so the rows of a month are neighbours
    /// on disk and in the GIN index's lists, which a window of a search then reads as a run
    /// instead of picking them out of the whole table. Articles published during the rebuild
    /// are filed by their publishing.
    private static func publishedInFilingOrder(after cursor: RebuildCursor?, on sql: any SQLDatabase) async throws -> [RebuildCursor] {
        let rows = try await sql.raw("""
            SELECT id, published_at FROM articles WHERE status = \(bind: ArticleStatus.published.rawValue) AND published_at IS NOT NULL
            """).all()
        let order = try rows.map {
            RebuildCursor(publishedAt: try $0.decode(column: "published_at", as: Date.self), articleID: try $0.decode(column: "id", as: UUID.self))
        }.sorted()
        guard let cursor else { return order }
        return order.filter { $0 > cursor }
    }

    /// The first key of the index's PostgreSQL advisory locks, so they meet no other locks.
    static let lockNamespace: Int32 = 0x53_52_43

    /// Files again a batch of the articles whose rows lack their facet words (filed before
    /// migration 035 on SQLite or 036 on PostgreSQL, or by an older instance during a rolling
    /// deploy), which searches match the slow way meanwhile. The check reads only; SQLite's
    /// write lock is taken when there is something to file. Returns how many articles it filed.
    func scopeUnscoped(batchSize: Int = 200) async throws -> Int {
        let waiting: SQLQueryString = "SELECT DISTINCT article_id FROM search_documents WHERE scoped = 0 LIMIT \(literal: batchSize)"
        guard try await sql.raw(waiting).first() != nil else { return 0 }
        return try await database.writeTransaction { db in
            let sql = db as! any SQLDatabase
            // One instance at a time: others would only wait for its rows and file them again.
            if sql.dialect.name == "postgresql" {
                let held = try await sql.raw("SELECT pg_try_advisory_xact_lock(\(bind: Self.lockNamespace), 0) AS held").first()?.decode(column: "held", as: Bool.self)
                guard held == true else { return 0 }
            }
            let ids = try await sql.raw(waiting).all().map { try $0.decode(column: "article_id", as: UUID.self) }
            try await SearchIndexing(database: db).refresh(ids)
            return ids.count
        }
    }

    /// Fills the index when it is empty but articles are published: the first start after an
    /// upgrade that brought search, or after a restore that left the index out. Otherwise puts
    /// back the index's upkeep, in case a rebuild was killed.
    func fillIfEmpty(logger: Logger) async throws {
        let filed = try await sql.raw("SELECT count(*) AS total FROM search_documents").first()
        guard try SearchSQL.total(filed) == 0,
              try await Article.query(on: database).filter(\.$status == .published).count() > 0
        else {
            // A rebuild that was killed left the index kept as for a rebuild (FTS5 merging off);
            // one another process is running now still wants it so.
            let running = try await SearchRebuilds(database: database).open().flatMap(\.claimedUntil).map { $0 > Date() } ?? false
            if !running { try await index.endRebuild(completed: false, on: sql) }
            return
        }
        logger.notice("search.index.filling")
        do {
            let count = try await rebuild()
            logger.notice("search.index.filled", metadata: ["articles": "\(count)"])
        } catch {
            // Another instance starting at the same moment may be filling it: serving goes on,
            // and `masthead reindex` completes whatever is missing.
            logger.warning("search.index.fill_failed", metadata: ["error": "\(error)"])
        }
    }

    private var sql: any SQLDatabase { database as! any SQLDatabase }

    /// Files the articles and lists their words (`SearchTerms`), in the caller's transaction.
    /// A rebuild lists none as it goes: it files what is filed already, whose words are listed,
    /// and lists every word again once complete.
    private func file(_ sources: [SearchDocument.Source], listingTerms: Bool = true) async throws {
        guard !sources.isEmpty else { return }
        let documents = await Self.normalized(sources)
        try await index.file(documents, on: sql)
        if listingTerms { try await SearchTerms.list(documents, on: sql) }
    }

    /// The published articles among `ids` with their names and texts, read with one query per
    /// table, only the columns the index needs, and joined here: a rebuild reads every
    /// article, and Fluent's models (decoded field by field through reflection, children
    /// matched to parents pair by pair) cost more than the reading.
    private static func sources(_ ids: [UUID], on db: any Database) async throws -> [SearchDocument.Source] {
        let sql = db as! any SQLDatabase
        let articles = try await sql.raw("""
            SELECT id, edition, kind, visibility, published_at, title, dek, preview_html, has_gated_text FROM articles
            WHERE id IN (\(binds: ids)) AND status = \(bind: ArticleStatus.published.rawValue) AND published_at IS NOT NULL
            """).all()
        guard !articles.isEmpty else { return [] }
        let published = try articles.map { try $0.decode(column: "id", as: UUID.self) }
        let gated = try articles.filter { try $0.decode(column: "has_gated_text", as: Bool.self) }.map { try $0.decode(column: "id", as: UUID.self) }
        let restByArticle = try await Article.searchableRestHTML(of: gated, on: db)
        let topicLinks = try await sql.raw("SELECT article_id, topic_id FROM \(ident: ArticleTopic.schema) WHERE article_id IN (\(binds: published))").all()
            .map { (article: try $0.decode(column: "article_id", as: UUID.self), topic: try $0.decode(column: "topic_id", as: UUID.self)) }
        let authorLinks = try await sql.raw("""
            SELECT article_id, author_id FROM \(ident: ArticleAuthor.schema) WHERE article_id IN (\(binds: published)) ORDER BY position
            """).all()
            .map { (article: try $0.decode(column: "article_id", as: UUID.self), author: try $0.decode(column: "author_id", as: UUID.self)) }
        let topics = try await Topic.query(on: db).filter(\.$id ~~ Array(Set(topicLinks.map(\.topic)))).with(\.$names).all()
        let topicNames = Dictionary(topics.compactMap { topic in topic.id.map { ($0, topic.names.map(\.name) + topic.aliasList) } }, uniquingKeysWith: { first, _ in first })
        let authors = try await Author.query(on: db).filter(\.$id ~~ Array(Set(authorLinks.map(\.author)))).all()
        let authorNames = Dictionary(authors.compactMap { author in author.id.map { ($0, author.name) } }, uniquingKeysWith: { first, _ in first })
        let topicsByArticle = Dictionary(grouping: topicLinks, by: \.article)
        let authorsByArticle = Dictionary(grouping: authorLinks, by: \.article)
        return try zip(articles, published).map { row, id in
            let topicIDs = (topicsByArticle[id] ?? []).map(\.topic)
            let authorIDs = (authorsByArticle[id] ?? []).map(\.author)
            return SearchDocument.Source(
                articleID: id, edition: try row.decode(column: "edition", as: String.self),
                kind: try row.decode(column: "kind", as: ArticleKind.self), visibility: try row.decode(column: "visibility", as: Visibility.self),
                publishedAt: try row.decode(column: "published_at", as: Date.self), title: try row.decode(column: "title", as: String.self),
                names: topicIDs.flatMap { topicNames[$0] ?? [] } + authorIDs.compactMap { authorNames[$0] },
                topicIDs: topicIDs, authorIDs: authorIDs,
                dek: try row.decode(column: "dek", as: String.self), previewHTML: try row.decode(column: "preview_html", as: String.self),
                restHTML: restByArticle[id] ?? ""
            )
        }
    }

    /// Folding a batch's words is most of a rebuild's work, and each article's is its own:
    /// a large batch is shared among the cores.
    private static func normalized(_ sources: [SearchDocument.Source]) async -> [SearchDocument] {
        let workers = sources.count < 64 ? 1 : max(1, ProcessInfo.processInfo.activeProcessorCount)
        guard workers > 1 else { return sources.map(\.normalized) }
        let shares = sources.chunked(into: (sources.count + workers - 1) / workers)
        return await withTaskGroup(of: (Int, [SearchDocument]).self) { group in
            for (position, share) in shares.enumerated() {
                group.addTask { (position, share.map(\.normalized)) }
            }
            var done: [(Int, [SearchDocument])] = []
            for await result in group { done.append(result) }
            return done.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    /// On PostgreSQL, holds the articles against edits, and against other filings of them, until
    /// the caller's transaction ends, so that what is read is what stays filed: a topic renamed
    /// while an editor makes one of its articles paid must not file the article again as it was
    /// before, and two instances filing one article (the catch-up and a publish) take turns
    /// instead of each inserting rows the other's delete could not see. In id order, as every
    /// locking filing does, so two never wait on each other. (A SQLite transaction that files
    /// has already written, and so holds the database's one write lock.)
    private static func lock(_ ids: [UUID], on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        for chunk in ids.sorted { $0.uuidString < $1.uuidString }.chunked(into: 2000) {
            try await sql.raw("SELECT id FROM articles WHERE id IN (\(binds: Array(chunk))) ORDER BY id FOR NO KEY UPDATE").run()
        }
    }
}
