import Foundation

/// A live story as its page shows it: the summary to everyone, the updates only when the
/// reader may read the story (the caller loads them through `LiveUpdates.visible`).
struct LiveCoverage {
    /// Updates a page shows at once; older ones are a link away, so a story covered for days
    /// keeps a page of a sensible size.
    static let pageSize = 50

    let story: LiveStory
    /// The newest page of updates; empty for a reader who may not read the story.
    let updates: [LiveUpdate]
    /// Pinned updates and key events, on this page or not.
    let standingOut: [LiveUpdate]
    let hasOlder: Bool
}

struct LiveCoverageModel {
    struct Update {
        let anchor: String
        let version: Int64
        let iso: String
        let timeText: String
        let author: String
        /// Nil when the update has none, so the template shows no empty heading.
        let headline: String?
        let html: String
        let keyEvent: Bool
        /// Where the key events list links to: the update on this page, or on the page of
        /// earlier updates that holds it.
        let link: String

        init(_ update: LiveUpdate, dates: EditionDates, onPage: Bool = true) {
            anchor = update.anchor
            link = onPage ? "#\(update.anchor)" : SiteURL.liveOlder(update.articleID, before: update.sequence + 1) + "#\(update.anchor)"
            version = update.version
            iso = EditionDates.iso(update.createdAt)
            timeText = dates.dayAndTime(update.createdAt)
            author = update.authorName
            headline = update.headline.isEmpty ? nil : update.headline
            html = update.html
            keyEvent = update.keyEvent
        }
    }

    let isLive: Bool
    let startedISO: String
    let endedISO: String?
    let summaryHTML: String
    let hasSummary: Bool
    /// Nil when the reader may not read the updates: the page then shows no updates section.
    let stream: Stream?

    struct Stream {
        let pinned: [Update]
        let updates: [Update]
        let keyEvents: [Update]
        let hasKeyEvents: Bool
        let hasPinned: Bool
        let hasOlder: Bool
        /// The page of updates before the oldest shown, and that oldest's number (updates older
        /// than it that change while the page is open stay on that page).
        let olderURL: String
        let oldest: Int64
        let olderBase: String
        let reloadURL: String
        /// Where the page listens for changes (nil once coverage is closed), and the story's
        /// version it was rendered at.
        let eventsURL: String?
        let version: Int64
        let script: String
    }

    init(_ coverage: LiveCoverage, readable: Bool, dates: EditionDates, path: String, script: String) {
        let story = coverage.story
        isLive = story.isLive
        startedISO = EditionDates.iso(story.startedAt)
        endedISO = story.endedAt.map(EditionDates.iso)
        summaryHTML = story.summaryHTML
        hasSummary = !story.summaryHTML.isEmpty
        guard readable, let articleID = story.id else {
            stream = nil
            return
        }
        let pinned = coverage.standingOut.filter(\.pinned)
        let onPage = Set((coverage.updates + pinned).map(\.sequence))
        let keyEvents = coverage.standingOut.filter(\.keyEvent).map { Update($0, dates: dates, onPage: onPage.contains($0.sequence)) }
        let oldest = coverage.updates.last?.sequence ?? 0
        stream = Stream(
            pinned: pinned.map { Update($0, dates: dates) },
            updates: coverage.updates.filter { !$0.pinned }.map { Update($0, dates: dates) },
            keyEvents: keyEvents, hasKeyEvents: !keyEvents.isEmpty, hasPinned: !pinned.isEmpty,
            hasOlder: coverage.hasOlder, olderURL: SiteURL.liveOlder(articleID, before: oldest), oldest: coverage.hasOlder ? oldest : 0,
            olderBase: SiteURL.liveOlder(articleID), reloadURL: path,
            eventsURL: story.isLive ? SiteURL.liveEvents(articleID) : nil, version: story.version, script: script
        )
    }
}

/// One update rendered alone, as a live story's event stream sends it to open pages: the page's
/// own partial, inside `update` (its fields) and beside `layout` (the edition's texts), so a page
/// updated by events reads as one reloaded.
struct LiveUpdateFragment {
    struct Texts {
        let t: [String: String]
    }

    let layout: Texts
    let update: LiveCoverageModel.Update
}

extension SitePages {
    func liveUpdateFragment(_ update: LiveUpdate, edition: Edition) throws -> String {
        try theme.render("partials/live-update-fragment", LiveUpdateFragment(
            layout: .init(t: edition.strings), update: .init(update, dates: EditionDates(edition: edition))
        ))
    }
}
