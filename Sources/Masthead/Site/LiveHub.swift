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
/// bytes to every reader's stream.
///
/// A stream is a privilege decided when it opens, so it does not last: each ends after about
/// ten minutes (the browser reconnects with the last event it had and is decided again, so a
/// reader who signed out or stopped paying stops receiving), at once when the story stops
/// being readable as it was (made paid, unpublished, coverage closed), and when its reader
/// falls too far behind. A client holds a few streams at most, and the instance a bounded number.
actor LiveHub {
    typealias Render = @Sendable (LiveUpdate) throws -> String

    struct Limits: Sendable {
        var perClient = 16
        var total = 8_000
        var lifetime: ClosedRange<Double> = 480...720
        /// Events a reader may have waiting before its stream is ended (it reconnects and catches up).
        var backlog = 160
        /// Changes a reader may catch up on; further behind, it is told to reload the page.
        var catchUp = 100
    }

    enum Refusal: Error {
        case tooManyStreams
    }

    private struct Reader {
        let continuation: AsyncStream<ByteBuffer>.Continuation
        let expires: ContinuousClock.Instant
        /// Changes that came while the reader's catch-up was read, sent after it, in order.
        var held: [ByteBuffer]?
    }

    private struct Watched {
        /// Changes the watcher that owns this entry: one cancelled meanwhile leaves it alone.
        let token = UUID()
        var version: Int64
        var visibility: String
        var readers: [UUID: Reader] = [:]
        var watcher: Task<Void, Never>?
    }

    private let database: any Database
    private let interval: Duration
    private let limits: Limits
    private let logger: Logger
    private var stories: [UUID: Watched] = [:]
    private var streamsByClient: [String: Int] = [:]
    /// Each open stream's client, counted until the stream ends, whatever became of its story.
    private var clients: [UUID: String] = [:]
    /// Every watcher until it has ended, including those a story's last reader cancelled and
    /// whose query may still be under way: `stop` waits for them all.
    private var watchers: [UUID: Task<Void, Never>] = [:]
    private var stopped = false

    init(database: any Database, interval: Duration = .milliseconds(500), limits: Limits = .init(), logger: Logger) {
        self.database = database
        self.interval = interval
        self.limits = limits
        self.logger = logger
    }

    /// The changes of the story after `version`: those already made (a reader whose page is
    /// older than the story, or who reconnects), then each as it happens. Changes that come
    /// while the catch-up is read are held and sent after it, so the reader gets them in order;
    /// one that comes both ways is sent twice, and pages apply a change only once.
    func subscribe(
        _ grant: FullTextGrant, story: LiveStory, visibility: Visibility, after version: Int64, client: String, render: @escaping Render
    ) async throws -> AsyncStream<ByteBuffer> {
        let articleID = try story.requireID()
        guard streamsByClient[client, default: 0] < limits.perClient, readerCount < limits.total else { throw Refusal.tooManyStreams }
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(limits.backlog))
        continuation.yield(ByteBuffer(string: "retry: 3000\n\n"))
        guard !stopped else {
            continuation.finish()
            return stream
        }
        if let watched = stories[articleID], watched.visibility != visibility.rawValue {
            // Decided under another visibility than the watcher's: one of the two is out of
            // date. The reader comes back and is decided again.
            continuation.finish()
            return stream
        }
        if stories[articleID] == nil {
            var watched = Watched(version: story.version, visibility: visibility.rawValue)
            let token = watched.token
            let watcher = Task {
                await self.watch(articleID, token: token, grant: grant, render: render)
                self.watchers[token] = nil
            }
            watched.watcher = watcher
            watchers[token] = watcher
            stories[articleID] = watched
        }
        let reader = UUID()
        let lifetime = Double.random(in: limits.lifetime)
        stories[articleID]?.readers[reader] = Reader(continuation: continuation, expires: .now + .seconds(lifetime), held: [])
        streamsByClient[client, default: 0] += 1
        clients[reader] = client
        continuation.onTermination = { _ in Task { await self.leave(articleID, reader: reader) } }

        let missed = try await LiveUpdates.changes(grant, story: story, after: version, on: database)
        if missed.count > limits.catchUp {
            continuation.yield(ByteBuffer(string: "event: reload\ndata: {}\n\n"))
            continuation.finish()
            return stream
        }
        for update in missed { continuation.yield(try Self.event(update, render: render)) }
        for event in stories[articleID]?.readers[reader]?.held ?? [] { continuation.yield(event) }
        stories[articleID]?.readers[reader]?.held = nil
        return stream
    }

    /// At shutdown, once the streams' connections are closed: stops every watcher and waits for
    /// the query each may have under way, so none uses the database after it closes.
    func stop() async {
        stopped = true
        for watched in stories.values {
            for reader in watched.readers.values { reader.continuation.finish() }
        }
        let running = Array(watchers.values)
        for watcher in running { watcher.cancel() }
        for watcher in running { await watcher.value }
    }

    /// How many streams are open, for the benchmark and the tests.
    var readerCount: Int { clients.count }

    private func leave(_ articleID: UUID, reader: UUID) {
        if let client = clients.removeValue(forKey: reader) {
            streamsByClient[client, default: 1] -= 1
            if streamsByClient[client] == 0 { streamsByClient[client] = nil }
        }
        stories[articleID]?.readers[reader] = nil
        if stories[articleID]?.readers.isEmpty == true {
            stories[articleID]?.watcher?.cancel()
            stories[articleID] = nil
        }
    }

    private func watch(_ articleID: UUID, token: UUID, grant: FullTextGrant, render: @escaping Render) async {
        var heartbeat = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, let watched = stories[articleID], watched.token == token else { return }
            expire(articleID)
            if ContinuousClock.now - heartbeat > .seconds(20) {
                // A comment line now and then: proxies keep the connection, and a reader who
                // has gone is noticed when the write fails.
                broadcast(articleID, ByteBuffer(string: ": still live\n\n"))
                heartbeat = .now
            }
            do {
                guard let version = try await readableVersion(of: articleID, visibility: watched.visibility) else {
                    return end(articleID, token: token)
                }
                guard version > watched.version, let story = try await LiveStory.find(articleID, on: database) else { continue }
                let changes = try await LiveUpdates.changes(grant, story: story, after: watched.version, on: database)
                // Made paid, unpublished or closed while the changes were read: nothing goes out.
                guard try await readableVersion(of: articleID, visibility: watched.visibility) != nil else {
                    return end(articleID, token: token)
                }
                guard stories[articleID]?.token == token else { return }
                for update in changes { broadcast(articleID, try Self.event(update, render: render)) }
                stories[articleID]?.version = max(version, changes.last?.version ?? version)
            } catch {
                logger.warning("live.watch_failed", metadata: ["article": "\(articleID)", "error": "\(error)"])
            }
        }
    }

    /// The story's version while it is published, covered live and of the visibility its
    /// readers were decided under; nil once any of that changed.
    private func readableVersion(of articleID: UUID, visibility: String) async throws -> Int64? {
        let rows = try await (database as! any SQLDatabase).raw("""
            SELECT live_stories.version, live_stories.ended_at, articles.visibility, articles.status FROM live_stories
            JOIN articles ON articles.id = live_stories.article_id WHERE live_stories.article_id = \(bind: articleID)
            """).all()
        guard let row = rows.first,
              try row.decode(column: "status", as: String.self) == ArticleStatus.published.rawValue,
              try row.decode(column: "visibility", as: String.self) == visibility,
              try row.decode(column: "ended_at", as: Date?.self) == nil
        else { return nil }
        return try row.decode(column: "version", as: Int64.self)
    }

    private func broadcast(_ articleID: UUID, _ event: ByteBuffer) {
        guard let readers = stories[articleID]?.readers else { return }
        for (id, reader) in readers {
            if reader.held != nil {
                stories[articleID]?.readers[id]?.held?.append(event)
            } else if case .dropped = reader.continuation.yield(event) {
                // Too far behind: ended, so it reconnects and catches up from what it has.
                reader.continuation.finish()
            }
        }
    }

    private func expire(_ articleID: UUID) {
        let now = ContinuousClock.now
        for reader in stories[articleID]?.readers.values ?? [:].values where reader.expires <= now {
            reader.continuation.finish()
        }
    }

    /// Ends every stream of the story; readers who come back are decided again, by a new watcher.
    private func end(_ articleID: UUID, token: UUID) {
        guard let watched = stories[articleID], watched.token == token else { return }
        stories[articleID] = nil
        for reader in watched.readers.values { reader.continuation.finish() }
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
