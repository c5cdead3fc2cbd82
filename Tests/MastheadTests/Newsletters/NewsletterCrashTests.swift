import Fluent
import Foundation
import Testing
@testable import Masthead

/// The delivery worker killed mid-send and started again, as a crash and a supervisor's
/// restart would do it: every recipient gets the newsletter, and only a message a connection
/// had in flight at the moment of the kill can arrive twice.
@Suite("Newsletters: a worker killed mid-send", .serialized)
struct NewsletterCrashTests {
    @Test("killing the worker mid-send and starting it again loses no delivery and repeats at most the ones in flight", .enabled(if: TestDatabase.available.contains(.postgres)))
    func killAndRestart() async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        // The site itself delivers nothing: only the worker processes do.
        try await withSite(on: .postgres, configure: { $0.backgroundJobs = false }) { site in
            guard case .postgres(let databaseURL) = site.settings.database else { return }
            let briefing = try await Newsletters.list(site)
            let addresses = (1...200).map { "reader\($0)@example.com" }
            try await Newsletters.subscribe(addresses, to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Crash test", rate: 60)
            let environment = [
                "MASTHEAD_DATABASE_URL": databaseURL, "MASTHEAD_DATA": site.settings.dataDirectory, "MASTHEAD_PUBLIC_URL": site.settings.publicURL,
                "MASTHEAD_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "MASTHEAD_NEWSLETTER_CLAIM_SECONDS": "2", "MASTHEAD_NEWSLETTER_CONNECTIONS": "2",
            ]
            let first = try MastheadProcess.start(["worker"], environment: environment)
            #expect(try await waitUntil(seconds: 60) { try smtp.messages().count >= 50 })
            kill(first.process.processIdentifier, SIGKILL)
            await first.process.exited()
            let atKill = try smtp.messages().count
            #expect(atKill < addresses.count, "the send finished before the kill")

            let second = try MastheadProcess.start(["worker"], environment: environment)
            defer { second.terminate() }
            #expect(try await waitUntil(seconds: 90) { try await Newsletters.status(site, send) == .sent })
            let received = try smtp.messages().flatMap(\.rcpt_tos)
            let counts = Dictionary(received.map { ($0, 1) }, uniquingKeysWith: +)
            #expect(Set(counts.keys) == Set(addresses), "missing: \(Set(addresses).subtracting(counts.keys).count)")
            let repeated = counts.values.filter { $0 > 1 }.count
            #expect(repeated <= 2, "\(repeated) recipients got it twice; at most one per connection was in flight")
            let sendID = try send.requireID()
            #expect(try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == sendID).filter(\.$status == .sent).count() == addresses.count)
        }
    }
}
