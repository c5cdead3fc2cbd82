import Foundation
import Ink
import Testing
@testable import Masthead

@Suite("Article body HTML")
struct BodyHTMLTests {
    @Test("what Markdown makes passes unchanged: every demo body, links, images, tables and code")
    func markdownUnchanged() throws {
        let parser = MarkdownParser()
        let sample = """
        ## A heading

        Some *emphasis*, **strength**, ~~struck~~, `code` and a [link](https://example.com/a?b=1&c=2).

        ![A chart](/media/chart.png)

        > A quote

        1. One
        2. Two

        | Left | Right |
        |:-----|------:|
        | a    | b     |

        ```swift
        let x = 1 < 2
        ```

        ---
        """
        for markdown in [sample] + (try DemoContent.read().articles.map(\.body)) {
            let html = parser.html(from: markdown.replacingOccurrences(of: ArticleBody.paywallMarker, with: ""))
            #expect(BodyHTML.sanitized(html) == html.replacingOccurrences(of: "\"/>", with: "\">"))
        }
    }

    @Test("raw HTML that Markdown does not make is shown as text or loses its dangerous parts")
    func rawHTMLDefused() {
        let body = ArticleBody(markdown: """
        Before.

        <script>alert(1)</script>

        <button formaction="/admin/staff/1/role" name="role" value="owner">Publish now</button>

        <img src="x" onerror="alert(1)"> <a href="javascript:alert(1)">click</a> <a href="&#106;avascript:alert(1)">again</a>

        <p style="position:fixed" onclick="x()">styled</p><!-- hidden note --><meta http-equiv="refresh" content="0;url=https://evil.example">
        """, previewParagraphs: 10)
        let html = body.previewHTML
        #expect(!html.contains("<script") && html.contains("&lt;script>"))
        #expect(!html.contains("<button") && html.contains("&lt;button"))
        #expect(!html.contains("onerror") && !html.contains("onclick") && !html.contains("style="))
        #expect(!html.contains("href=\"javascript") && !html.contains("href=\"&#106;"))
        #expect(html.contains("<img>") && html.contains("<a>click</a>") && html.contains("<p>styled</p>"))
        #expect(!html.contains("hidden note") && !html.contains("<meta"))
    }
}
