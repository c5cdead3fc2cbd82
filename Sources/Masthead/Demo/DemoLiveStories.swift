import Fluent
import Foundation

/// The demo's live stories: an article file may carry its day of live coverage, the summary
/// and the updates as the newsroom posted them.
enum DemoLiveStories {
    struct LiveFile: Decodable {
        struct Update: Decodable {
            let at: Date
            let author: String
            let headline: String
            let body: String
            let keyEvent: Bool
            let pinned: Bool
        }

        let startedAt: Date
        let endedAt: Date?
        let summary: String
        /// Oldest first, as they were posted.
        let updates: [Update]
    }

    static func insert(_ file: LiveFile, articleID: UUID, authorNames: [String: String], on db: any Database) async throws {
        let story = LiveStory(articleID: articleID, summary: file.summary, startedAt: file.startedAt)
        story.endedAt = file.endedAt
        story.version = Int64(file.updates.count)
        try await story.create(on: db)
        for (index, entry) in file.updates.enumerated() {
            guard let name = authorNames[entry.author] else { throw StartupError("demo live update names unknown author \(entry.author)") }
            let update = LiveUpdate()
            update.articleID = articleID
            update.sequence = Int64(index + 1)
            update.version = Int64(index + 1)
            update.headline = entry.headline
            update.setBody(entry.body)
            update.keyEvent = entry.keyEvent
            update.pinned = entry.pinned
            update.authorName = name
            update.createdAt = entry.at
            update.updatedAt = entry.at
            update.deleted = false
            try await update.create(on: db)
        }
    }
}
