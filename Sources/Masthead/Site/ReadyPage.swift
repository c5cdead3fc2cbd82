import NIOCore
import NIOHTTP1

/// A cached page as the fast path sends it to readers of one access level: each of its four
/// answers (the page or 304, plain or gzip) made ready as bytes once, when the page is
/// remembered, so that answering a reader builds no header list at all.
struct ReadyPage: Sendable {
    /// The content generation the page was rendered under (`PageCache.Page.generation`).
    let generation: Int64
    private let plain: Form
    private let gzip: Form?
    private let lastModified: LastModified?

    private struct Form: Sendable {
        let etag: String
        let page: ReadyAnswer
        let notModified: ReadyAnswer
    }

    init(_ page: PageCache.Page, cacheControl: String, vary: String, surrogateKeys: SurrogateKeys?) {
        generation = page.generation
        lastModified = page.lastModified
        let body = page.body
        func form(gzip: Bool, bytes: ByteBuffer) -> Form {
            func lines(notModified: Bool) -> ByteBuffer {
                var headers = body.headers(gzip: gzip, notModified: notModified, cacheControl: cacheControl, vary: vary, lastModified: page.lastModified, surrogateKeys: surrogateKeys)
                if !notModified { headers.add(name: .contentLength, value: String(bytes.readableBytes)) }
                SecurityHeadersMiddleware.apply(to: &headers)
                // Its own constants and digests: nothing a reader sent.
                return HTTPWire.lines(headers)!
            }
            return Form(
                etag: body.tag(gzip: gzip),
                page: ReadyAnswer(status: .ok, headerLines: lines(notModified: false), body: bytes),
                notModified: ReadyAnswer(status: .notModified, headerLines: lines(notModified: true), body: nil)
            )
        }
        plain = form(gzip: false, bytes: body.identity)
        gzip = body.gzip.map { form(gzip: true, bytes: $0) }
    }

    /// The answer to a GET or HEAD, as `PreparedBody.answer` would give it.
    func answer(to requestHeaders: HTTPHeaders) -> ReadyAnswer {
        let form = gzip.flatMap { PreparedBody.acceptsGzip(requestHeaders) ? $0 : nil } ?? plain
        let notModified = PreparedBody.isNotModified(requestHeaders, etag: form.etag, lastModified: lastModified?.date)
        return notModified ? form.notModified : form.page
    }

    /// The bytes it holds, for the index's budget (the bodies are shared with the page).
    var cost: Int {
        [plain, gzip].compactMap { $0 }.reduce(0) { total, form in
            total + (form.page.body?.readableBytes ?? 0) + form.page.headerLines.readableBytes + form.notModified.headerLines.readableBytes
        }
    }
}
