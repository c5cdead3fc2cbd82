import Foundation

/// A live story as its page shows it: the summary to everyone, the updates only when the
/// reader may read the story (the caller loads them through `LiveUpdates.visible`).
struct LiveCoverage {
    let story: LiveStory
    /// Empty for a reader who may not read the story.
    let updates: [LiveUpdate]
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

        init(_ update: LiveUpdate, dates: EditionDates) {
            anchor = update.anchor
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
        guard readable else {
            stream = nil
            return
        }
        let all = coverage.updates.map { Update($0, dates: dates) }
        let pinnedAnchors = Set(coverage.updates.filter(\.pinned).map(\.anchor))
        let keyEvents = all.filter(\.keyEvent)
        stream = Stream(
            pinned: all.filter { pinnedAnchors.contains($0.anchor) },
            updates: all.filter { !pinnedAnchors.contains($0.anchor) },
            keyEvents: keyEvents, hasKeyEvents: !keyEvents.isEmpty, hasPinned: !pinnedAnchors.isEmpty, reloadURL: path,
            eventsURL: story.isLive ? SiteURL.liveEvents(story.id!) : nil, version: story.version, script: script
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
