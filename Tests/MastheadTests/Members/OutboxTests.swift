import Fluent
import Foundation
import Logging
import Testing
@testable import Masthead

/// The outbox: mail written with what it tells of, sent afterwards over real SMTP, once.
@Suite("The outbox", .serialized)
struct OutboxTests {
    private func message(to address: String) -> EmailMessage {
        NoticeEmail(subject: "Hello \(address)", paragraphs: ["A paragraph."], button: nil, footer: ["Masthead"], lang: "en", dir: "ltr")
            .message(from: .init(email: "news@example.com"), to: .init(email: address))
    }

    private func transport(_ smtp: TestSMTPServer) -> SMTPTransport {
        SMTPTransport(configuration: smtp.configuration, group: .singletonMultiThreadedEventLoopGroup, heloName: "localhost")
    }

    @Test("a queued message reaches the SMTP server once, however many senders try", arguments: TestDatabase.available)
    func exactlyOneDelivery(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, withDemo: false, configure: { $0.smtp = smtp.configuration }) { site in
            for index in 0..<6 { try await Outbox(database: site.app.db, now: Date()).enqueue(message(to: "reader\(index)@example.com"), purpose: "test") }
            // The site's own background sender, and three more on the same database, all at once.
            let senders = (0..<3).map { _ in OutboxSender(database: site.app.db, transport: transport(smtp), logger: Logger(label: "test")) }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for sender in senders { group.addTask { try await sender.sendDue() } }
                try await group.waitForAll()
            }
            #expect(try await eventually { try await OutboxMessage.query(on: site.app.db).filter(\.$sentAt == nil).count() == 0 })
            #expect(try smtp.messages().count == 6)
            #expect(Set(try smtp.messages().flatMap(\.rcpt_tos)).count == 6)
        }
    }

    @Test("a temporary failure is retried later with the same Message-ID; a permanent one gives up", arguments: [TestDatabase.sqlite])
    func retries(database: TestDatabase) async throws {
        let smtp = try await TestSMTPServer.start()
        defer { smtp.stop() }
        try await withSite(on: database, withDemo: false, configure: { $0.smtp = smtp.configuration }) { site in
            let outbox = Outbox(database: site.app.db, now: Date())
            try await outbox.enqueue(message(to: "tempfail-reader@example.com"), purpose: "test")
            try await outbox.enqueue(message(to: "reject-reader@example.com"), purpose: "test")
            #expect(try await eventually {
                let untried = try await OutboxMessage.query(on: site.app.db).filter(\.$attempts == 0).count()
                let inFlight = try await OutboxMessage.query(on: site.app.db).filter(\.$claimedUntil != nil).count()
                return untried == 0 && inFlight == 0
            })

            let waiting = try #require(try await OutboxMessage.query(on: site.app.db).filter(\.$toEmail == "tempfail-reader@example.com").first())
            #expect(waiting.failedAt == nil && waiting.sentAt == nil && waiting.sendAfter > Date() && waiting.attempts == 1)
            let refused = try #require(try await OutboxMessage.query(on: site.app.db).filter(\.$toEmail == "reject-reader@example.com").first())
            #expect(refused.failedAt != nil && refused.lastError?.contains("550") == true)

            // Due later, and tried again then as the same message.
            let sender = OutboxSender(database: site.app.db, transport: transport(smtp), logger: Logger(label: "test"))
            #expect(try await sender.sendDue(now: Date().addingTimeInterval(120)) == 0)
            let again = try #require(try await OutboxMessage.find(waiting.id, on: site.app.db))
            #expect(again.attempts == 2 && again.messageID == waiting.messageID)
            #expect(try smtp.messages().isEmpty)
        }
    }
}
