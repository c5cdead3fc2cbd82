import Foundation
import Logging
import Testing
@testable import Masthead

@Suite("Development mail")
struct DevelopmentMailTests {
    @Test("without an SMTP server, a sign-in email is written to the data folder with its link")
    func writesEML() async throws {
        try await withSite(on: .sqlite) { site in
            let browser = TestBrowser(site: site)
            let page = try await browser.submit(try await browser.get("/signin"), action: "/signin", ["email": "dev@example.com"])
            #expect(page.status == .ok)

            let folder = site.settings.mailDropDirectory
            let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".eml") }
            #expect(files.count == 1)
            let raw = try String(contentsOfFile: "\(folder)/\(files[0])", encoding: .utf8)
            #expect(raw.contains("To: <dev@example.com>\r\n"))
            #expect(raw.contains("Content-Type: multipart/alternative;"))
            let text = try #require(raw.components(separatedBy: "\r\n\r\n").dropFirst(2).first)
            let decoded = String(decoding: Data(base64Encoded: text.replacingOccurrences(of: "\r\n", with: "").components(separatedBy: "--").first ?? "") ?? Data(), as: UTF8.self)
            #expect(decoded.contains("https://news.example/signin/verify?token="))
        }
    }

    @Test("serve without an SMTP server refuses to start, with one line saying what to set")
    func serveNeedsMail() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-serve-\(UUID().uuidString)").path
        let result = try await MastheadProcess.run(["serve", "--port", "0"], environment: ["MASTHEAD_DATA": data])
        #expect(result.status == 1)
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(result.standardError.contains("MASTHEAD_SMTP_URL is not set"))
        #expect(result.standardError.contains("MASTHEAD_DEV_MAIL=1"))
    }

    @Test("development mail is logged by its file, never by the links in it")
    func logNamesTheFileOnly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-mail-\(UUID().uuidString)").path
        let records = LogRecords()
        let logger = Logger(label: "test") { _ in records }
        let message = EmailMessage(
            from: .init(email: "news@example.com"), to: .init(email: "reader@example.com"), subject: "Sign in",
            text: "Sign in: https://news.example/signin/verify?token=SECRET-TOKEN", html: "<a href=\"https://news.example/signin/verify?token=SECRET-TOKEN\">Sign in</a>"
        )
        _ = try await MailDropTransport(directory: folder, logger: logger).send(message)
        let logged = records.lines.joined(separator: "\n")
        #expect(logged.contains(folder))
        #expect(!logged.contains("SECRET-TOKEN") && !logged.contains("https://"))
    }

    @Test("smtp:// to another machine insists on STARTTLS unless told it may go without")
    func startTLSRequiredOffLoopback() throws {
        #expect(try SMTPConfiguration(url: "smtp://mail.example.com:587").security == .requiredSTARTTLS)
        #expect(try SMTPConfiguration(url: "smtp://mail.example.com?starttls=opportunistic").security == .opportunisticSTARTTLS)
        #expect(try SMTPConfiguration(url: "smtp://127.0.0.1:2525").security == .opportunisticSTARTTLS)
        #expect(try SMTPConfiguration(url: "smtp://127.mail.example.com").security == .requiredSTARTTLS)
        #expect(try SMTPConfiguration(url: "smtp://127.0.0.1:2525?starttls=required").security == .requiredSTARTTLS)
        #expect(throws: SettingsError.self) { try SMTPConfiguration(url: "smtp://mail.example.com?starttls=sometimes") }
    }
}

/// Everything a logger was told, as text.
final class LogRecords: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var lines: [String] { lock.withLock { stored } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let text = "\(event.message) \((event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        lock.withLock { stored.append(text) }
    }
}
