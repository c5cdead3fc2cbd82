import ArgumentParser
import Foundation
import Masthead
import Vapor

/// `masthead newsletter …`: the lists, sending, and a send's progress.
struct NewsletterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "newsletter",
        abstract: "List newsletters, send one, and follow a send.",
        subcommands: [List.self, Send.self, Status.self, Import.self, Suppress.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add confirmed subscribers from a CSV file (email, and optionally name), as exported by another platform.",
            discussion: "The file is checked whole first: any bad row is named by its line and nothing is imported. Addresses that unsubscribed here stay unsubscribed."
        )

        @ArgumentParser.Option(name: .customLong("newsletter"), help: "The newsletter's slug.") var newsletter: String
        @ArgumentParser.Argument(help: "The CSV file.") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw NewsletterOperations.Failure(description: "cannot read \(file)") }
            guard let text = String(data: data, encoding: .utf8) else { throw NewsletterOperations.Failure(description: "\(file) is not UTF-8 text") }
            try await withApp { app, _ in
                let outcome = try await NewsletterImport.run(app: app, newsletter: newsletter, csv: text) { done, total in
                    Terminal.progress(done: done, total: total, label: "subscribers")
                }
                Terminal.say("Added \(outcome.added), confirmed \(outcome.confirmed) waiting; \(outcome.alreadySubscribed) were subscribed already, \(outcome.keptUnsubscribed) had unsubscribed and stay so.")
            }
        }
    }

    struct Suppress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every newsletter going to an address, or to each address in a file (one per line).")

        @ArgumentParser.Argument(help: "An email address, or a file of them.") var target: String

        func run() async throws {
            let text = FileManager.default.fileExists(atPath: target) ? (try String(contentsOfFile: target, encoding: .utf8)) : target
            let addresses = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            try await withApp { app, _ in
                let added = try await NewsletterOperations.suppress(app: app, addresses: addresses)
                Terminal.say("Suppressed \(added) \(added == 1 ? "address" : "addresses").")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the newsletters and their subscribers.")

        func run() async throws {
            try await withApp { app, _ in
                let lists = try await NewsletterOperations.lists(app: app)
                if lists.isEmpty { Terminal.say("No newsletters yet.") }
                for list in lists {
                    Terminal.say("\(list.slug)\t\(list.name)\t\(list.edition)\t\(list.subscribers) subscribed, \(list.pending) waiting to confirm\(list.active ? "" : "\t(inactive)")")
                }
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send an article (or, with several --article, a digest) to one or more newsletters.",
            discussion: "Without --detach, delivers and shows its progress until every message is settled; a running `masthead serve` or `masthead worker` shares the work."
        )

        @ArgumentParser.Option(name: .customLong("newsletter"), help: "The newsletter's slug; repeat for several lists.") var newsletters: [String] = []
        @ArgumentParser.Option(name: .customLong("article"), help: "A published article's slug; repeat for a digest.") var articles: [String] = []
        @ArgumentParser.Option(help: "The email's subject (default: the article's title, or the newsletter's name).") var subject: String?
        @ArgumentParser.Option(help: "A few words before the articles.") var intro: String = ""
        @ArgumentParser.Option(help: "When to send: an ISO 8601 time such as 2026-12-02T07:00:00Z, or 2026-12-02T07:00 in the site's time zone.") var at: String?
        @ArgumentParser.Option(help: "At most this many messages a second (0: no limit).") var rate: Int = 0
        @ArgumentParser.Option(name: .customLong("test-to"), help: "Send one test copy to this address instead, as a paying member would get it.") var testTo: String?
        @ArgumentParser.Flag(help: "Start the send and return at once; a running server or worker delivers it.") var detach = false

        func run() async throws {
            try await withApp(boot: !detach && testTo == nil && at == nil) { app, settings in
                if let testTo {
                    try await NewsletterOperations.testSend(app: app, settings: settings, newsletter: newsletters.first ?? "", articles: articles, subject: subject, intro: intro, to: testTo)
                    Terminal.say("Sent a test copy to \(testTo).")
                    return
                }
                let time = try at.map { try Self.parseTime($0, timeZone: settings.timeZone) }
                let enqueueStart = ContinuousClock.now
                let id = try await NewsletterOperations.send(
                    app: app, newsletters: newsletters, articles: articles, subject: subject, intro: intro,
                    at: time, ratePerSecond: rate, createdBy: "command line"
                )
                let enqueued = ContinuousClock.now - enqueueStart
                if detach || time.map({ $0 > Date() }) == true {
                    Terminal.say("Send \(id.uuidString.lowercased()) \(time.map { "is scheduled for \($0.formatted(.iso8601))" } ?? "has started"). masthead newsletter status \(id.uuidString.lowercased()) shows its progress.")
                    return
                }
                let deliveryStart = ContinuousClock.now
                while true {
                    guard let summary = try await NewsletterOperations.status(app: app, send: id).first else { return }
                    Terminal.progress(done: summary.finished, total: max(summary.total, 1), label: "sent \(summary.sent), failed \(summary.failed), bounced \(summary.bounced)")
                    if summary.isDone || (summary.total > 0 && summary.queued == 0) || summary.total == 0 {
                        if summary.total == 0 {
                            Terminal.say("No one is subscribed to \(newsletters.joined(separator: ", ")): nothing to send.")
                        } else {
                            Self.report(summary, enqueued: enqueued, delivered: ContinuousClock.now - deliveryStart, shares: await NewsletterOperations.timings(app: app))
                        }
                        break
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }

        /// The send's figures: how long queueing took, how fast it went out, and where the time went.
        static func report(_ summary: NewsletterOperations.SendSummary, enqueued: Duration, delivered: Duration, shares: DeliveryTimings.Shares?) {
            let seconds = { (duration: Duration) in Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
            let rate = Double(summary.finished) / max(seconds(delivered), 0.001)
            Terminal.say(String(format: "Queued %d deliveries in %.2f s; settled them in %.2f s (%.0f messages/s).", summary.total, seconds(enqueued), seconds(delivered), rate))
            if let shares, shares.total > .zero {
                Terminal.say("Delivery time (all connections): SMTP \(shares.percent(shares.smtp)) %, rendering \(shares.percent(shares.rendering)) %, database \(shares.percent(shares.database)) %.")
            }
        }

        static func parseTime(_ text: String, timeZone: TimeZone) throws -> Date {
            if let date = try? Date(text, strategy: .iso8601) { return date }
            let local = Date.ISO8601FormatStyle(timeZone: timeZone).year().month().day().dateTimeSeparator(.standard).time(includingFractionalSeconds: false)
            if let date = try? Date(text + ":00", strategy: local) { return date }
            throw NewsletterOperations.Failure(description: "--at \(text) is not a time such as 2026-12-02T07:00:00Z or 2026-12-02T07:00")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the latest sends, or one send, and where each stands.")

        @ArgumentParser.Argument(help: "A send's id (from masthead newsletter send).") var send: String?

        func run() async throws {
            let id = try send.map { text in
                guard let id = UUID(uuidString: text) else { throw NewsletterOperations.Failure(description: "\(text) is not a send id") }
                return id
            }
            try await withApp { app, _ in
                let sends = try await NewsletterOperations.status(app: app, send: id)
                if sends.isEmpty { Terminal.say("No sends yet.") }
                for send in sends {
                    Terminal.say("\(send.id.uuidString.lowercased())\t\(send.status)\t\(send.subject)")
                    Terminal.say("  \(send.total) recipients: \(send.sent) sent, \(send.queued) queued, \(send.failed) failed, \(send.bounced) bounced, \(send.skipped) skipped, \(send.unconfirmed) unconfirmed; \(send.unsubscribedSince) unsubscribed since")
                }
            }
        }
    }
}

/// `masthead worker`: background jobs (newsletter and other mail delivery, scheduled
/// publishing, housekeeping) without the web server, for a machine of their own.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the background jobs (mail and newsletter delivery, scheduled publishing) without serving pages: serve --role worker.")

    func run() async throws {
        var settings = try Settings.fromEnvironment()
        settings.role = .worker
        try await runServer(settings)
    }
}

