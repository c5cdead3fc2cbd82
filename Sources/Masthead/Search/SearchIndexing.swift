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
        let published = try await Self.withRelations(Article.query(on: database).filter(\.$id ~~ ids))
            .filter(\.$status == .published).with(\.$text).all()
        let filed = Set(published.compactMap(\.id))
        try await index.remove(articleIDs: ids.filter { !filed.contains($0) }, on: sql)
        try await file(published)
    }

    /// Files again every published article filed under a topic or credited to an author whose
    /// names changed.
    func refresh(topicID: UUID) async throws {
        try await refresh(ArticleTopic.query(on: database).filter(\.$topic.$id == topicID).all().map(\.$article.id))
    }

    func refresh(authorID: UUID) async throws {
        try await refresh(ArticleAuthor.query(on: database).filter(\.$author.$id == authorID).all().map(\.$article.id))
    }

    /// Files every published article again, a batch per transaction, reporting `(done, total)`
    /// after each, then takes out what is no longer published. Readers search the old rows
    /// of each article until its batch lands: the index is never empty meanwhile.
    func rebuild(batchSize: Int = 500, progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Int {
        let total = try await Article.query(on: database).filter(\.$status == .published).count()
        var done = 0
        var after: UUID?
        progress(0, total)
        while true {
            // Each batch is read in the transaction that files it, with the articles locked, so
            // that an edit made meanwhile (public to paid, say) is never overwritten by what
            // was read before it.
            let ids = try await database.transaction { [after] db in
                let ids = try await Self.lockBatch(after: after, size: batchSize, on: db)
                guard !ids.isEmpty else { return ids }
                let articles = try await Self.withRelations(Article.query(on: db).filter(\.$id ~~ ids)).with(\.$text).all()
                try await SearchIndexing(database: db).file(articles)
                return ids
            }
            guard let last = ids.last else { break }
            done += ids.count
            after = last
            progress(min(done, total), total)
        }
        try await index.prune(on: sql)
        return done
    }

    /// Fills the index when it is empty but articles are published: the first start after an
    /// upgrade that brought search, or after a restore that left the index out.
    func fillIfEmpty(logger: Logger) async throws {
        let filed = try await sql.raw("SELECT count(*) AS total FROM search_documents").first()
        guard try SearchSQL.total(filed) == 0,
              try await Article.query(on: database).filter(\.$status == .published).count() > 0
        else { return }
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

    private func file(_ articles: [Article]) async throws {
        var sources: [SearchDocument.Source] = []
        for article in articles {
            guard let id = article.id, let publishedAt = article.publishedAt else { continue }
            let topics = article.topicLinks.map(\.topic)
            sources.append(SearchDocument.Source(
                articleID: id, edition: article.edition, kind: article.kind, visibility: article.visibility, publishedAt: publishedAt,
                title: article.title, names: topics.flatMap { $0.names.map(\.name) + $0.aliasList } + article.authorCredits.map(\.author.name),
                topicIDs: topics.compactMap(\.id), authorIDs: article.authorCredits.map(\.$author.id),
                dek: article.dek, previewHTML: article.previewHTML, restHTML: try await article.searchableRestHTML(on: database)
            ))
        }
        guard !sources.isEmpty else { return }
        try await index.file(await Self.normalized(sources), on: sql)
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

    /// The next batch of published articles' ids, locked against edits until the transaction ends.
    private static func lockBatch(after: UUID?, size: Int, on db: any Database) async throws -> [UUID] {
        let sql = db as! any SQLDatabase
        try await SQLiteWriteTurn.take(on: db, table: Article.schema)
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR SHARE" : ""
        let start: SQLQueryString = after.map { " AND id > \(bind: $0)" } ?? ""
        let rows = try await sql.raw("""
            SELECT id FROM articles WHERE status = \(bind: ArticleStatus.published.rawValue)\(start) ORDER BY id LIMIT \(literal: size)\(lock)
            """).all()
        return try rows.map { try $0.decode(column: "id", as: UUID.self) }
    }

    private static func withRelations(_ query: QueryBuilder<Article>) -> QueryBuilder<Article> {
        query.with(\.$authorCredits) { $0.with(\.$author) }
            .with(\.$topicLinks) { $0.with(\.$topic) { $0.with(\.$names) } }
    }
}
