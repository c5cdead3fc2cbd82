import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
@testable import Masthead

/// What each recipient receives, and how the worker treats a mail server's answers.
@Suite("Newsletters: delivery", .serialized)
struct NewsletterDeliveryTests {
    @Test("a paid article goes out whole to paying members, as a preview with the call to join to the others; the web view decides alike", arguments: [TestDatabase.sqlite])
    func accessPerRecipient(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.smtp = smtp.configuration; $0.developmentMail = false }) { site in
            let paid = Member(email: "paying@example.com", name: "Paying")
            paid.paidUntil = Date().addingTimeInterval(86_400 * 30)
            try await paid.create(on: site.app.db)
            try await Member(email: "free@example.com", name: "Free").create(on: site.app.db)
            let briefing = try await Newsletters.list(site)
            try await Newsletters.subscribe(["paying@example.com", "free@example.com", "stranger@example.com"], to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .paid)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Paid story")
            #expect(try await waitUntil { try smtp.messages().count == 3 })
            let gated = DemoArticles.gatedSentences(of: article)
            #expect(!gated.isEmpty)
            let paying = try #require(try smtp.messages(to: "paying@example.com").first)
            for sentence in gated { #expect(paying.text?.contains(sentence) == true, "paying member misses: \(sentence)") }
            #expect(paying.html?.contains("Become a paying member") == false)
            for reader in ["free@example.com", "stranger@example.com"] {
                let message = try #require(try smtp.messages(to: reader).first)
                for sentence in gated {
                    #expect(message.text?.contains(sentence) == false, "\(reader) got paid text")
                    #expect(message.html?.contains(sentence) == false, "\(reader) got paid text")
                }
            }
            #expect(try smtp.messages(to: "free@example.com").first?.text?.contains("Become a paying member") == true)
            #expect(try smtp.messages(to: "stranger@example.com").first?.text?.contains("Join now") == true)

            let view = "/newsletters/view/\(send.id!.uuidString.lowercased())"
            let anonymous = try await site.get(view)
            #expect(anonymous.status == .ok)
            for sentence in gated { #expect(!HTML.text(of: anonymous.body).contains(sentence)) }
            #expect(anonymous.body.contains("class=\"paywall\""))
            let session = try await MemberSessions(database: site.app.db, now: Date()).create(for: paid)
            let full = try await site.get(view, headers: [("Cookie", "mh_session=\(session)")])
            for sentence in gated { #expect(HTML.text(of: full.body).contains(sentence)) }
        }
    }

    @Test("a 4xx is tried again later; a 5xx to the recipient bounces and keeps the address out of later sends", arguments: [TestDatabase.sqlite])
    func serverAnswers(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.smtp = smtp.configuration; $0.developmentMail = false }) { site in
            let briefing = try await Newsletters.list(site)
            try await Newsletters.subscribe(["tempfail-busy@example.com", "reject-gone@example.com", "fine@example.com"], to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Answers")
            let sendID = try send.requireID()
            #expect(try await waitUntil {
                try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == sendID).filter(\.$status == .bounced).count() == 1
            })
            #expect(try await waitUntil { try smtp.messages(to: "fine@example.com").count == 1 })
            let deliveries = Dictionary(uniqueKeysWithValues: try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == sendID).all().map { ($0.email, $0) })
            let retried = try #require(deliveries["tempfail-busy@example.com"])
            #expect(retried.status == .queued && retried.attempts == 1)
            #expect(retried.nextAttemptAt > Date().addingTimeInterval(30))
            #expect(retried.response?.hasPrefix("451") == true)
            #expect(deliveries["reject-gone@example.com"]?.response?.hasPrefix("550") == true)
            #expect(try await MailSuppression.query(on: site.app.db).filter(\.$email == "reject-gone@example.com").first()?.reason == .hardBounce)

            let later = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Later")
            let laterID = try later.requireID()
            let addresses = try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == laterID).all().map(\.email)
            #expect(Set(addresses) == ["tempfail-busy@example.com", "fine@example.com"])
        }
    }

    @Test("only a refusal of the address itself suppresses it; a policy refusal fails one message")
    func hardBounces() {
        #expect(NewsletterDeliverer.isHardBounce("550 5.1.1 No such user here"))
        #expect(NewsletterDeliverer.isHardBounce("553 mailbox name not allowed"))
        #expect(!NewsletterDeliverer.isHardBounce("550 5.7.1 Message rejected as spam"))
        #expect(!NewsletterDeliverer.isHardBounce("552 5.2.2 Mailbox full"))
        #expect(!NewsletterDeliverer.isHardBounce("554 Transaction failed"))
    }

    @Test("a cancelled send sends nothing more", arguments: [TestDatabase.sqlite])
    func cancelStops(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.smtp = smtp.configuration; $0.developmentMail = false }) { site in
            let briefing = try await Newsletters.list(site)
            try await Newsletters.subscribe((1...40).map { "cancel\($0)@example.com" }, to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Mistake", rate: 10)
            #expect(try await waitUntil { try smtp.messages().count >= 3 })
            try await NewsletterSends(database: site.app.db, now: Date()).cancel(send)
            // Within a second or so the connections let go of what they had claimed.
            try await Task.sleep(for: .seconds(2))
            let settled = try smtp.messages().count
            try await Task.sleep(for: .seconds(2))
            #expect(try smtp.messages().count == settled)
            #expect(settled < 40)
            #expect(try await Newsletters.status(site, send) == .cancelled)
            let sendID = try send.requireID()
            #expect(try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == sendID).filter(\.$status == .queued).count() == 0)
        }
    }

    @Test("an address on two of a send's lists gets one message", arguments: [TestDatabase.sqlite])
    func oneMessagePerAddress(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let briefing = try await Newsletters.list(site)
            let weekly = try await Newsletters.list(site, "weekly-analysis")
            try await Newsletters.subscribe(["both@example.com", "one@example.com"], to: briefing, on: site)
            try await Newsletters.subscribe(["both@example.com"], to: weekly, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing, weekly], subject: "Both")
            #expect(send.recipients == 2)
        }
    }

    @Test("a connection slower than its claim renews it, so no other connection sends the same message again", arguments: [TestDatabase.sqlite])
    func slowConnectionKeepsItsClaim(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            let briefing = try await Newsletters.list(site)
            let addresses = (1...30).map { "slow\($0)@example.com" }
            try await Newsletters.subscribe(addresses, to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            // Ten messages a batch at eight a second between two connections: each batch takes
            // longer than the one-second claim.
            _ = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Slow", rate: 8)
            let deliverer = try Newsletters.deliverer(site, smtp: smtp, settings: NewsletterSettings(connections: 2, claim: .seconds(1), batchSize: 10), heloName: "slow.worker")
            try await deliverer.deliverDue()
            let received = try smtp.messages().flatMap(\.rcpt_tos)
            #expect(received.count == addresses.count)
            #expect(Set(received) == Set(addresses))
        }
    }

    @Test("a message the server kept without answering is counted unconfirmed and never sent again; the send still finishes", arguments: TestDatabase.available)
    func unansweredMessageIsNotRepeated(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            let briefing = try await Newsletters.list(site)
            try await Newsletters.subscribe(["vanish-once@example.com", "fine@example.com"], to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "No answer")
            let deliverer = try Newsletters.deliverer(site, smtp: smtp)
            try await deliverer.deliverDue()
            // Due again at once, were it still queued.
            try await (site.app.db as! any SQLDatabase).raw("UPDATE newsletter_deliveries SET next_attempt_at = \(bind: Date().addingTimeInterval(-1)) WHERE status = 'queued'").run()
            try await deliverer.deliverDue()

            let deliveries = Dictionary(uniqueKeysWithValues: try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == send.requireID()).all().map { ($0.email, $0) })
            #expect(deliveries["vanish-once@example.com"]?.status == .unconfirmed)
            #expect(deliveries["vanish-once@example.com"]?.sentAt != nil)
            #expect(deliveries["fine@example.com"]?.status == .sent)
            #expect(try smtp.messages(to: "vanish-once@example.com").count == 1)
            #expect(try await Newsletters.status(site, send) == .sent)
            let progress = try await NewsletterSends(database: site.app.db, now: Date()).progress(of: send)
            #expect(progress.unconfirmed == 1 && progress.sent == 1 && progress.finished == 2)
        }
    }

    @Test("a message a killed worker had handed over is settled as unconfirmed once its claim lapses, not sent again", arguments: TestDatabase.available)
    func killedWorkersHandOverIsNotRepeated(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            let briefing = try await Newsletters.list(site)
            let addresses = ["handed@example.com", "second@example.com", "third@example.com"]
            try await Newsletters.subscribe(addresses, to: briefing, on: site)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "After a kill")
            try await NewsletterSends(database: site.app.db, now: Date()).startDue()
            // What a worker killed after recording the hand-over leaves: its claim, lapsed.
            let handedOverAt = Date().addingTimeInterval(-700)
            let sql = site.app.db as! any SQLDatabase
            try await sql.raw("""
                UPDATE newsletter_deliveries SET handed_over_at = \(bind: handedOverAt), claimed_by = 'killed', claimed_until = \(bind: Date().addingTimeInterval(-100)), attempts = 1
                WHERE email = 'handed@example.com'
                """).run()

            try await Newsletters.deliverer(site, smtp: smtp).deliverDue()

            #expect(try smtp.messages(to: "handed@example.com").isEmpty)
            #expect(Set(try smtp.messages().flatMap(\.rcpt_tos)) == ["second@example.com", "third@example.com"])
            let handed = try #require(try await NewsletterDelivery.query(on: site.app.db).filter(\.$send.$id == send.requireID()).filter(\.$email == "handed@example.com").first())
            #expect(handed.status == .unconfirmed)
            #expect(abs((handed.sentAt ?? .distantPast).timeIntervalSince(handedOverAt)) < 1)
            #expect(try await Newsletters.status(site, send) == .sent)
        }
    }

    /// A send started, its deliveries written, one of them claimed by `worker`.
    static func claimed(_ email: String, by worker: String, site: TestSite) async throws -> (NewsletterSend, Int64) {
        let briefing = try await Newsletters.list(site)
        try await Newsletters.subscribe([email, "bystander@example.com"], to: briefing, on: site)
        let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
        let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Hand-over")
        try await NewsletterSends(database: site.app.db, now: Date()).startDue()
        let delivery = try #require(try await NewsletterDelivery.query(on: site.app.db).filter(\.$email == email).first())
        delivery.claimedBy = worker
        delivery.claimedUntil = Date().addingTimeInterval(60)
        try await delivery.save(on: site.app.db)
        return (send, try delivery.requireID())
    }

    @Test("of two connections asking at once to hand the same message over, only the one holding its claim may", arguments: TestDatabase.available)
    func onlyTheClaimHolderHandsOver(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            let (_, id) = try await Self.claimed("contested@example.com", by: "holder", site: site)
            let outcomes = DeliveryOutcomes(database: site.app.db)
            let until = Date().addingTimeInterval(60)
            async let lapsed = outcomes.handOver(.init(id: id, worker: "lapsed", claimUntil: until))
            async let holder = outcomes.handOver(.init(id: id, worker: "holder", claimUntil: until))
            let answers = try await (lapsed, holder)
            #expect(answers == (false, true))
        }
    }

    @Test("a handed-over message is never due again, so an older instance in a rolling deploy, which knows no hand-overs, cannot send it twice", arguments: TestDatabase.available)
    func handedOverIsNeverDue(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            let (_, id) = try await Self.claimed("handed@example.com", by: "killed", site: site)
            #expect(try await DeliveryOutcomes(database: site.app.db).handOver(.init(id: id, worker: "killed", claimUntil: Date().addingTimeInterval(-1))))
            // The claim of migration 032's instances, run after the killed worker's claim lapsed.
            let sql = site.app.db as! any SQLDatabase
            let now = Date().addingTimeInterval(3600)
            let due = try await sql.raw("""
                SELECT id FROM newsletter_deliveries WHERE status = 'queued' AND next_attempt_at <= \(bind: now)
                  AND (claimed_until IS NULL OR claimed_until < \(bind: now))
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            #expect(!due.isEmpty && !due.contains(id))
        }
    }

    @Test("cancelling a send leaves a message being handed over to its server's answer, which is recorded", arguments: [TestDatabase.sqlite])
    func cancelKeepsTheHandOversAnswer(database: TestDatabase) async throws {
        try await withSite(on: database, configure: { $0.backgroundJobs = false }) { site in
            let (send, id) = try await Self.claimed("inflight@example.com", by: "alive", site: site)
            let outcomes = DeliveryOutcomes(database: site.app.db)
            #expect(try await outcomes.handOver(.init(id: id, worker: "alive", claimUntil: Date().addingTimeInterval(60))))
            try await NewsletterSends(database: site.app.db, now: Date()).cancel(send)
            try await outcomes.record(.init(id: id, status: .sent, response: "250 2.0.0 OK", worker: "alive"))
            let delivery = try #require(try await NewsletterDelivery.find(id, on: site.app.db))
            #expect(delivery.status == .sent && delivery.handedOverAt == nil)
            #expect(try await NewsletterDelivery.query(on: site.app.db).filter(\.$email == "bystander@example.com").first()?.status == .skipped)
        }
    }

    @Test("two workers on PostgreSQL share one send and never deliver a message twice", .enabled(if: TestDatabase.available.contains(.postgres)))
    func twoWorkers() async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: .postgres, configure: { $0.smtp = smtp.configuration; $0.developmentMail = false; $0.newsletters.batchSize = 10 }) { site in
            let briefing = try await Newsletters.list(site)
            let addresses = (1...240).map { "reader\($0)@example.com" }
            try await Newsletters.subscribe(addresses, to: briefing, on: site)
            // A second worker beside the site's own, with connections of its own, on the same database.
            let second = try Newsletters.deliverer(site, smtp: smtp, settings: NewsletterSettings(connections: 3, batchSize: 10), heloName: "second.worker")
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            // Paced, so that both workers are at it at once.
            let send = try await Newsletters.send(site, articles: [article], to: [briefing], subject: "Shared", rate: 150)
            let settledBySecond = try await second.deliverDue()
            #expect(try await waitUntil { try await Newsletters.status(site, send) == .sent })
            let received = try smtp.messages().flatMap(\.rcpt_tos)
            #expect(received.count == addresses.count)
            #expect(Set(received) == Set(addresses))
            #expect(settledBySecond > 0 && settledBySecond < addresses.count, "the second worker settled \(settledBySecond)")
        }
    }
}
