import Foundation
import Vapor

/// A reader's browser against a test site: keeps cookies, submits forms, does not follow
/// redirects (so tests can see them), and sends the site's own Origin with its posts.
final class TestBrowser: @unchecked Sendable {
    let site: TestSite
    private(set) var cookies: [String: String] = [:]
    /// Sent with every request, as a proxy in front of the site would add them.
    var extraHeaders: [(String, String)] = []

    init(site: TestSite) {
        self.site = site
    }

    func get(_ path: String) async throws -> TestSite.Page {
        let page = try await site.get(path, headers: cookieHeader())
        remember(page.headers)
        return page
    }

    func post(_ path: String, form: [String: String], origin: String? = nil) async throws -> TestSite.Page {
        var headers = HTTPHeaders(cookieHeader())
        headers.add(name: .contentType, value: "application/x-www-form-urlencoded")
        headers.add(name: .origin, value: origin ?? site.baseURL)
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let response = try await site.app.client.post(URI(string: site.baseURL + path), headers: headers) { request in
            request.body = ByteBuffer(string: body)
        }
        let bytes = response.body ?? ByteBuffer()
        remember(response.headers)
        return TestSite.Page(status: response.status, headers: response.headers, body: String(buffer: bytes), bytes: bytes)
    }

    /// Fills in a page's form (found by its action) with its hidden fields plus `fields`, and posts it.
    func submit(_ page: TestSite.Page, action: String, _ fields: [String: String] = [:]) async throws -> TestSite.Page {
        guard let form = HTML.section(of: page.body, from: "action=\"\(action)\"", to: "</form>") else {
            throw TestSupportError("no form posting to \(action) on the page")
        }
        var values: [String: String] = [:]
        let names = HTML.attributeValues("name", of: "input type=\"hidden\"", in: form)
        let hiddenValues = HTML.attributeValues("value", of: "input type=\"hidden\"", in: form)
        for (name, value) in zip(names, hiddenValues) { values[name] = value }
        return try await post(action, form: values.merging(fields) { $1 })
    }

    struct Upload {
        let field: String
        let filename: String
        let contentType: String
        let data: Data
    }

    /// Posts a multipart/form-data form (RFC 7578), as a browser does for a form with a file input:
    /// the page's hidden fields, then `fields` (repeatable names allowed), then the files.
    func submitMultipart(_ page: TestSite.Page, action: String, _ fields: [(String, String)], files: [Upload] = []) async throws -> TestSite.Page {
        guard let form = HTML.section(of: page.body, from: "action=\"\(action)\"", to: "</form>") else {
            throw TestSupportError("no form posting to \(action) on the page")
        }
        let names = HTML.attributeValues("name", of: "input type=\"hidden\"", in: form)
        let hiddenValues = HTML.attributeValues("value", of: "input type=\"hidden\"", in: form)
        let overridden = Set(fields.map(\.0))
        let all = zip(names, hiddenValues).filter { !overridden.contains($0.0) }.map { ($0.0, $0.1) } + fields
        let boundary = "----masthead-test-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in all {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        for file in files {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.contentType)\r\n\r\n".utf8))
            body.append(file.data)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        var headers = HTTPHeaders(cookieHeader())
        headers.add(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        headers.add(name: .origin, value: site.baseURL)
        let response = try await site.app.client.post(URI(string: site.baseURL + action), headers: headers) { request in
            request.body = ByteBuffer(data: body)
        }
        let bytes = response.body ?? ByteBuffer()
        remember(response.headers)
        return TestSite.Page(status: response.status, headers: response.headers, body: String(buffer: bytes), bytes: bytes)
    }

    private func cookieHeader() -> [(String, String)] {
        extraHeaders + (cookies.isEmpty ? [] : [("Cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))])
    }

    private func remember(_ headers: HTTPHeaders) {
        for header in headers[.setCookie] {
            let pair = header.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if parts[1].isEmpty || header.lowercased().contains("max-age=0") {
                cookies[parts[0]] = nil
            } else {
                cookies[parts[0]] = parts[1]
            }
        }
    }
}
