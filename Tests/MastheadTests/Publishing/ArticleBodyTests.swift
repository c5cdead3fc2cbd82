import Testing
@testable import Masthead

@Suite("Splitting a body into preview and rest")
struct ArticleBodyTests {
    let fiveParagraphs = (1...5).map { "Paragraph \($0) says something." }.joined(separator: "\n\n")

    @Test("splits at an explicit paywall marker")
    func explicitMarker() {
        let body = ArticleBody(markdown: "First.\n\nSecond.\n\n<!-- paywall -->\n\nThird.\n\nFourth.", previewParagraphs: 3)
        #expect(body.previewHTML == "<p>First.</p><p>Second.</p>")
        #expect(body.restHTML == "<p>Third.</p><p>Fourth.</p>")
    }

    @Test("without a marker, splits after the configured number of paragraphs")
    func paragraphCount() {
        let body = ArticleBody(markdown: fiveParagraphs, previewParagraphs: 2)
        #expect(body.previewHTML == "<p>Paragraph 1 says something.</p><p>Paragraph 2 says something.</p>")
        #expect(body.restHTML.hasPrefix("<p>Paragraph 3"))
    }

    @Test("a body no longer than the preview has nothing behind the paywall")
    func shortBody() {
        let body = ArticleBody(markdown: "Only one paragraph.", previewParagraphs: 3)
        #expect(body.previewHTML == "<p>Only one paragraph.</p>")
        #expect(body.restHTML.isEmpty)
    }

    @Test("a subheading stays with the paragraph after it")
    func headingKeptWithItsParagraph() {
        let split = ArticleBody.split("Intro.\n\n## Background\n\nDetail.\n\nMore.", previewParagraphs: 2)
        #expect(split.preview == "Intro.\n\n## Background\n\nDetail.")
        #expect(split.rest == "More.")
    }

    @Test("the marker is never rendered into either part")
    func markerNotRendered() {
        let body = ArticleBody(markdown: "A.\n\n<!-- paywall -->\n\nB.", previewParagraphs: 3)
        #expect(!body.previewHTML.contains("paywall"))
        #expect(!body.restHTML.contains("paywall"))
    }
}
