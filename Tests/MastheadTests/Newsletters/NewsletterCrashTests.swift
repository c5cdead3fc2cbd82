import Fluent
import Foundation
import Testing
@testable import Masthead

/// The delivery worker killed mid-send and started again, as a crash and a supervisor's
/// restart would do it: no recipient gets the newsletter twice, and every one gets it but a
/// message a connection had handed over at the moment of the kill, which is counted unconfirmed
/// (and, the server having almost surely kept it, arrives too).
@Suite("Newsletters: a worker killed mid-send", .serialized)
struct NewsletterCrashTests {
    @Test("killing the worker mid-send and starting it again repeats no delivery, and loses none but one it had handed over", .enabled(if: TestDatabase.available.contains(.postgres)))
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
            #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts.values.filter { $0 > 1 }.count) recipients got it twice")
            let sendID = try send.requireID()
            let deliveries = try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == sendID).all()
            let unconfirmed = Set(deliveries.filter { $0.status == .unconfirmed }.map(\.email))
            #expect(unconfirmed.count <= 2, "at most one message per connection was being handed over")
            #expect(deliveries.allSatisfy { $0.status == .sent || $0.status == .unconfirmed })
            let missing = Set(addresses).subtracting(counts.keys)
            #expect(missing.isSubset(of: unconfirmed), "missing and not handed over: \(missing.subtracting(unconfirmed))")
        }
    }
}
