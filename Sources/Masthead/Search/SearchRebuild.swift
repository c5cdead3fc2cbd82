import Fluent
import Foundation

/// One rebuild of the search index, from the request to its end (`SearchRebuilds`).
final class SearchRebuild: Model, @unchecked Sendable {
    static let schema = "search_rebuilds"

    enum Status: String, Codable, Sendable {
        /// Waiting for an instance that runs background jobs.
        case queued
        case running
        case finished
        case failed
        case cancelled
    }

    @ID(key: .id) var id: UUID?
    @Enum(key: "status") var status: Status
    /// A staff member's address, or "the command line".
    @Field(key: "requested_by") var requestedBy: String
    @Field(key: "requested_at") var requestedAt: Date
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    @OptionalField(key: "open_slot") var openSlot: Int?
    /// The running instance's token: its progress counts only while this is still its own.
    @OptionalField(key: "claim") var claim: UUID?
    @OptionalField(key: "claimed_until") var claimedUntil: Date?
    /// The last article filed, and when it was published (a rebuild files the oldest first):
    /// an instance taking over a lapsed claim goes on after it.
    @OptionalField(key: "resume_published_at") var resumePublishedAt: Date?
    @OptionalField(key: "resume_article") var resumeArticle: UUID?
    /// Where instances older than migration 038 kept the last article of a rebuild in id order.
    /// Newer ones leave it empty, so that an older one taking a rebuild over starts it again,
    /// missing none; and one an older instance went on with is started again by a newer one.
    @OptionalField(key: "resume_after") var resumeAfter: UUID?
    @Field(key: "done") var done: Int
    @Field(key: "total") var total: Int
    @OptionalField(key: "failure") var failure: String?
    /// How many times another instance took it over after its claim lapsed.
    @Field(key: "takeovers") var takeovers: Int

    init() {}

    init(requestedBy: String, at date: Date) {
        status = .queued
        self.requestedBy = requestedBy
        requestedAt = date
        openSlot = 1
        done = 0
        total = 0
        takeovers = 0
    }

    var isOpen: Bool { status == .queued || status == .running }

    var resumeFrom: SearchIndexing.RebuildCursor? {
        guard resumeAfter == nil, let resumePublishedAt, let resumeArticle else { return nil }
        return SearchIndexing.RebuildCursor(publishedAt: resumePublishedAt, articleID: resumeArticle)
    }
}
