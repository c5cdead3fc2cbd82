import Foundation
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
}
