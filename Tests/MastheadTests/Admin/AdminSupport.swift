import Fluent
import Foundation
import Testing
@testable import Masthead

/// Staff for admin tests: accounts made directly, then signed in through the real form.
enum Newsroom {
    static let password = "a long test password"

    @discardableResult
    static func hire(_ site: TestSite, _ role: StaffRole, email: String? = nil, name: String? = nil) async throws -> Staff {
        try await StaffAccounts(database: site.app.db).create(
            email: email ?? "\(role.rawValue)@newsroom.example", name: name ?? "Test \(role.rawValue.capitalized)", role: role, password: password
        )
    }

    /// A browser signed in to the admin as a new staff member with this role.
    static func signedIn(_ site: TestSite, as role: StaffRole, email: String? = nil) async throws -> (TestBrowser, Staff) {
        let staff = try await hire(site, role, email: email)
        let browser = TestBrowser(site: site)
        let response = try await browser.submit(try await browser.get("/admin/signin"), action: "/admin/signin", ["email": staff.email, "password": password])
        guard response.status == .seeOther else { throw TestSupportError("\(role) could not sign in: \(response.status)") }
        return (browser, staff)
    }

    static var leadImage: TestBrowser.Upload {
        let data = FileManager.default.contents(atPath: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png").path) ?? Data()
        return .init(field: "image", filename: "lead.png", contentType: "image/png", data: data)
    }

    static func authorIDs(_ site: TestSite, count: Int) async throws -> [String] {
        try await Author.query(on: site.app.db).sort(\.$slug).limit(count).all().map { $0.id!.uuidString }
    }

    /// The fields of a complete article, ready to post with an action.
    static func articleFields(title: String, body: String, authors: [String], edition: String = "en", kind: String = "analysis", visibility: String = "paid") -> [(String, String)] {
        [("title", title), ("dek", "A dek for \(title)"), ("edition", edition), ("kind", kind), ("visibility", visibility), ("body", body)]
            + authors.map { ("authors[]", $0) }
    }

    /// Posts the new-article form and returns the saved article's editor path.
    static func create(_ browser: TestBrowser, _ fields: [(String, String)], action: String, files: [TestBrowser.Upload] = []) async throws -> (TestSite.Page, String?) {
        let form = try await browser.get("/admin/articles/new")
        let response = try await browser.submitMultipart(form, action: "/admin/articles/new", fields + [("action", action)], files: files)
        let location = response.headers.first(name: .location).map { String($0.prefix { $0 != "?" }) }
        return (response, location)
    }

    /// Posts the editor form of an existing article as a browser would: its current content as
    /// the form shows it, with some fields changed.
    static func edit(_ browser: TestBrowser, _ path: String, _ changes: [(String, String)], action: String) async throws -> TestSite.Page {
        let form = try await browser.get(path)
        guard form.status == .ok else { return form }
        guard let id = UUID(uuidString: String(path.split(separator: "/").last ?? "")),
              let article = try await Article.query(on: browser.site.app.db).filter(\.$id == id).with(\.$authorCredits).with(\.$topicLinks).with(\.$text).first()
        else { throw TestSupportError("no article behind \(path)") }
        let draft = try ArticleDraft(article)
        let changed = Set(changes.map(\.0))
        let current: [(String, String)] = [
            ("title", draft.title), ("dek", draft.dek), ("slug", draft.slug), ("edition", draft.edition),
            ("kind", draft.kind.rawValue), ("visibility", draft.visibility.rawValue), ("body", draft.body),
            ("imageAlt", draft.imageAlt), ("imageCaption", draft.imageCaption), ("imageCredit", draft.imageCredit),
            ("seoTitle", draft.seoTitle), ("seoDescription", draft.seoDescription),
        ] + draft.authorIDs.map { ("authors[]", $0.uuidString) } + draft.topicIDs.map { ("topics[]", $0.uuidString) }
        return try await browser.submitMultipart(form, action: path, current.filter { !changed.contains($0.0) } + changes + [("action", action)])
    }

    static func article(_ site: TestSite, title: String) async throws -> Article? {
        try await Article.query(on: site.app.db).with(\.$text).filter(\.$title == title).first()
    }
}

/// Retries a check while the site catches up (its cache follows the content generation every
/// 100 ms in tests); gives up after a few seconds.
func eventually(_ check: () async throws -> Bool) async throws -> Bool {
    for _ in 0..<40 {
        if try await check() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}

/// Links in the development mail written to the data folder, newest message last.
enum DevelopmentMail {
    static func links(_ site: TestSite, containing fragment: String) throws -> [String] {
        let folder = site.settings.mailDropDirectory
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".eml") }
        let sorted = try files.sorted {
            let a = try FileManager.default.attributesOfItem(atPath: "\(folder)/\($0)")[.modificationDate] as? Date ?? .distantPast
            let b = try FileManager.default.attributesOfItem(atPath: "\(folder)/\($1)")[.modificationDate] as? Date ?? .distantPast
            return a < b
        }
        var links: [String] = []
        for file in sorted {
            let raw = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)
            for part in raw.components(separatedBy: "\r\n\r\n") {
                let decoded = String(decoding: Data(base64Encoded: part.components(separatedBy: "--").first?.replacingOccurrences(of: "\r\n", with: "") ?? "") ?? Data(), as: UTF8.self)
                for word in decoded.split(whereSeparator: { $0.isWhitespace }) where word.hasPrefix("https://") && word.contains(fragment) {
                    links.append(String(word))
                }
            }
        }
        return links
    }

    /// The path and query of the newest link containing `fragment`, to request from the test site.
    static func latestPath(_ site: TestSite, containing fragment: String) throws -> String {
        guard let link = try links(site, containing: fragment).last, let url = URLComponents(string: link) else {
            throw TestSupportError("no development mail with a link containing \(fragment)")
        }
        return url.path + (url.query.map { "?\($0)" } ?? "")
    }
}
