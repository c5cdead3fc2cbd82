import Fluent
import Foundation
import Testing
@testable import Masthead

/// `masthead newsletter …` and `masthead mail dkim-key`, run as an operator would, against a
/// site's database.
@Suite("The newsletter command line", .serialized)
struct NewsletterCommandTests {
    private func environment(_ site: TestSite) -> [String: String] {
        guard case .sqlite(let path) = site.settings.database else { return [:] }
        return ["MASTHEAD_DATABASE_URL": path, "MASTHEAD_DATA": site.settings.dataDirectory, "MASTHEAD_DEV_MAIL": "1", "MASTHEAD_PUBLIC_URL": site.settings.publicURL]
    }

    private func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-\(UUID().uuidString).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("an import with a bad row names its line, exits non-zero and imports nothing")
    func badRow() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let csv = try file("email,name\nfirst@example.com,First\nnot-an-address,Second\n\"third@example.com\",\"Third, Jr.\"\n")
            let result = try await MastheadProcess.run(["newsletter", "import", "--newsletter", "daily-briefing", csv], environment: environment(site))
            #expect(result.status == 1)
            #expect(result.standardError.contains("line 3: 'not-an-address' is not an email address"))
            #expect(result.standardError.split(separator: "\n").count == 1)
            #expect(try await NewsletterSubscription.query(on: site.app.db).count() == 0)
        }
    }

    @Test("an import adds confirmed subscribers, keeps those who unsubscribed out, and adds nobody twice")
    func importing() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let briefing = try await Newsletters.list(site)
            try await NewsletterSubscription(newsletterID: try briefing.requireID(), email: "gone@example.com", name: "", memberID: nil, status: .unsubscribed, source: .form, createdAt: Date()).create(on: site.app.db)
            let csv = try file("\u{FEFF}Email,Name\r\nA@Example.com,\"Hassan, Ali\"\r\ngone@example.com,\r\nb@example.com,بشرى\r\na@example.com,Again\r\n")
            let first = try await MastheadProcess.run(["newsletter", "import", "--newsletter", "daily-briefing", csv], environment: environment(site))
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardOutput.contains("Added 2"))
            #expect(first.standardOutput.contains("1 had unsubscribed and stay so"))
            let rows = try await NewsletterSubscription.query(on: site.app.db).all()
            #expect(Dictionary(uniqueKeysWithValues: rows.map { ($0.email, $0.status) }) == ["a@example.com": .active, "b@example.com": .active, "gone@example.com": .unsubscribed])
            #expect(rows.first { $0.email == "a@example.com" }?.name == "Hassan, Ali")
            let again = try await MastheadProcess.run(["newsletter", "import", "--newsletter", "daily-briefing", csv], environment: environment(site))
            #expect(again.standardOutput.contains("Added 0"))
            #expect(try await NewsletterSubscription.query(on: site.app.db).count() == 3)
        }
    }

    @Test("send delivers with a progress bar and reports its figures; status shows the send; suppress keeps an address out")
    func sendAndStatus() async throws {
        try await withSite(on: .sqlite, configure: { $0.backgroundJobs = false }) { site in
            let briefing = try await Newsletters.list(site)
            try await Newsletters.subscribe(["one@example.com", "two@example.com", "three@example.com"], to: briefing, on: site)
            let suppressed = try await MastheadProcess.run(["newsletter", "suppress", "three@example.com"], environment: environment(site))
            #expect(suppressed.standardOutput.contains("Suppressed 1 address"))
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let sent = try await MastheadProcess.run(["newsletter", "send", "--newsletter", "daily-briefing", "--article", article.slug], environment: environment(site))
            #expect(sent.status == 0, "\(sent.standardError)")
            #expect(sent.standardOutput.contains("2/2"))
            #expect(sent.standardOutput.contains("Queued 2 deliveries in"))
            #expect(sent.standardOutput.contains("messages/s"))
            let status = try await MastheadProcess.run(["newsletter", "status"], environment: environment(site))
            #expect(status.standardOutput.contains("2 recipients: 2 sent, 0 queued"))
            let unknown = try await MastheadProcess.run(["newsletter", "send", "--newsletter", "no-such-list", "--article", article.slug], environment: environment(site))
            #expect(unknown.status == 1 && unknown.standardError.contains("no newsletter 'no-such-list'"))
        }
    }

    @Test("mail dkim-key writes a private key only its owner can read, prints the record, and never overwrites a file")
    func dkimKey() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-dkim-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let made = try await MastheadProcess.run(["mail", "dkim-key", "--domain", "news.example", "--selector", "mh2026", "--out", out])
        #expect(made.status == 0, "\(made.standardError)")
        #expect(made.standardOutput.contains("mh2026._domainkey.news.example. IN TXT \"v=DKIM1; k=rsa; p="))
        let permissions = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let pem = try String(contentsOfFile: out, encoding: .utf8)
        _ = try DKIMSigner(domain: "news.example", selector: "mh2026", privateKeyPEM: pem)
        let again = try await MastheadProcess.run(["mail", "dkim-key", "--domain", "news.example", "--out", out])
        #expect(again.status == 1 && again.standardError.contains("already exists"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == pem)
    }
}
