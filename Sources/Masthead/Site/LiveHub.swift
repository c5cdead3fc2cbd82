import Fluent
import Foundation
import Logging
import NIOCore
import SQLKit
import Vapor

/// Carries a live story's changes to the readers who hold its event stream open. One watcher
/// per story and instance, however many readers: it asks the database every half second
/// whether the story's version moved (so an update posted on any instance reaches readers on
/// every instance), reads what changed once, renders each change once, and hands the same
/// bytes to every reader's stream. Readers subscribe only with the story's `FullTextGrant`;
/// the watcher stops every stream of a story that stops being readable as it was (made paid,
/// unpublished), and readers then reconnect and are decided again.
actor LiveHub {
    typealias Render = @Sendable (LiveUpdate) throws -> String

    private struct Watched {
        var version: Int64
        var visibility: String
        var readers: [UUID: AsyncStream<ByteBuffer>.Continuation] = [:]
        var watcher: Task<Void, Never>?
    }

    private let database: any Database
    private let interval: Duration
    private let logger: Logger
    private var stories: [UUID: Watched] = [:]

    init(database: any Database, interval: Duration = .milliseconds(500), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    /// The changes of the story after `version`: those already made (a reader whose page is
    /// older than the story, or who reconnects), and each as it happens. The reader joins the
    /// watcher before the catch-up is read, so no change falls between the two; one that comes
    /// through both is sent twice, and pages apply a change only once (by its version).
    func subscribe(_ grant: FullTextGrant, story: LiveStory, visibility: Visibility, after version: Int64, render: @escaping Render) async throws -> AsyncStream<ByteBuffer> {
        let articleID = try story.requireID()
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .unbounded)
        continuation.yield(ByteBuffer(string: "retry: 3000\n\n"))
        if stories[articleID] == nil {
            stories[articleID] = Watched(version: story.version, visibility: visibility.rawValue)
            stories[articleID]?.watcher = Task { await self.watch(articleID, grant: grant, render: render) }
        }
        let reader = UUID()
        stories[articleID]?.readers[reader] = continuation
        continuation.onTermination = { _ in Task { await self.leave(articleID, reader: reader) } }
        for update in try await LiveUpdates.changes(grant, story: story, after: version, on: database) {
            continuation.yield(try Self.event(update, render: render))
        }
        return stream
    }

    /// How many readers hold a stream open, for the benchmark and the tests.
    var readerCount: Int { stories.values.reduce(0) { $0 + $1.readers.count } }

    private func leave(_ articleID: UUID, reader: UUID) {
        stories[articleID]?.readers[reader] = nil
        if stories[articleID]?.readers.isEmpty == true {
            stories[articleID]?.watcher?.cancel()
            stories[articleID] = nil
        }
    }

    private func watch(_ articleID: UUID, grant: FullTextGrant, render: @escaping Render) async {
        var heartbeat = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, let watched = stories[articleID] else { return }
            do {
                let sql = database as! any SQLDatabase
                let rows = try await sql.raw("""
                    SELECT live_stories.version, articles.visibility, articles.status FROM live_stories
                    JOIN articles ON articles.id = live_stories.article_id WHERE live_stories.article_id = \(bind: articleID)
                    """).all()
                guard let row = rows.first,
                      try row.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue,
                      try row.decode(column: "visibility", as: String.self) == watched.visibility
                else { return end(articleID) }
                let version = try row.decode(column: "version", as: Int64.self)
                if version > watched.version, let story = try await LiveStory.find(articleID, on: database) {
                    for update in try await LiveUpdates.changes(grant, story: story, after: watched.version, on: database) {
                        broadcast(articleID, try Self.event(update, render: render))
                    }
                    stories[articleID]?.version = version
                }
                // A comment line now and then: proxies keep the connection, and a reader who has
                // gone is noticed when the write fails.
                if ContinuousClock.now - heartbeat > .seconds(20) {
                    broadcast(articleID, ByteBuffer(string: ": still live\n\n"))
                    heartbeat = .now
                }
            } catch {
                logger.warning("live.watch_failed", metadata: ["article": "\(articleID)", "error": "\(error)"])
            }
        }
    }

    private func broadcast(_ articleID: UUID, _ event: ByteBuffer) {
        for continuation in stories[articleID]?.readers.values ?? [:].values { continuation.yield(event) }
    }

    private func end(_ articleID: UUID) {
        for continuation in stories[articleID]?.readers.values ?? [:].values { continuation.finish() }
        stories[articleID] = nil
    }

    /// One change as an event: its version as the id (a reconnecting browser sends it back as
    /// Last-Event-ID), the update's rendered HTML, or that it was removed.
    static func event(_ update: LiveUpdate, render: Render) throws -> ByteBuffer {
        struct Change: Encodable {
            let anchor: String
            let removed: Bool
            let pinned: Bool
            let keyEvent: Bool
            let headline: String
            let html: String
        }
        let change = Change(
            anchor: update.anchor, removed: update.deleted, pinned: update.pinned && !update.deleted, keyEvent: update.keyEvent && !update.deleted,
            headline: update.headline, html: update.deleted ? "" : try render(update)
        )
        let json = String(decoding: try JSONEncoder().encode(change), as: UTF8.self)
        // JSON has no raw line breaks, so the data fits one `data:` line.
        return ByteBuffer(string: "id: \(update.version)\nevent: update\ndata: \(json)\n\n")
    }
}

struct LiveHubKey: StorageKey {
    typealias Value = LiveHub
}
