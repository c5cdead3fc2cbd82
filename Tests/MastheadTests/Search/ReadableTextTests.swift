import Testing
@testable import Masthead

/// The readable start of an article's HTML, as search snippets are cut from it.
@Suite("Readable text for snippets")
struct ReadableTextTests {
    @Test("tags are dropped, blocks parted by a blank line, inline markup joins its words")
    func blocksAndInlineMarkup() {
        let html = "<h2>Border</h2>\n<p>The <em>crossing</em> at <a href=\"/topics/iraq\">Rabia</a> reopened.</p><ul><li>one</li><li>two</li></ul><p>a<br>b<br/>c</p>"
        #expect(ReadableText.prefix(of: html, limit: 1_000) == "Border\n\nThe crossing at Rabia reopened.\n\none\n\ntwo\n\na\n\nb\n\nc")
    }

    @Test("the character references the renderer writes are decoded, others kept as written")
    func references() {
        let html = "<p>Q&amp;A: 5 &lt; 6 &gt; 4, &quot;quoted&quot; and it&#39;s&nbsp;here; &copy; stays, AT&T too &</p>"
        #expect(ReadableText.prefix(of: html, limit: 1_000) == "Q&A: 5 < 6 > 4, \"quoted\" and it's\u{00A0}here; &copy; stays, AT&T too &")
    }

    @Test("Arabic and Persian text passes through whole, marks and joiners included")
    func rightToLeft() {
        let html = "<p>الحشدُ الشعبي</p><p>می‌خواهم</p>"
        #expect(ReadableText.prefix(of: html, limit: 1_000) == "الحشدُ الشعبي\n\nمی‌خواهم")
    }

    @Test("reading stops at the limit, counted in characters of text, not of markup")
    func limit() {
        let html = "<p>" + String(repeating: "<b>x</b>", count: 100) + "</p>"
        #expect(ReadableText.prefix(of: html, limit: 10) == String(repeating: "x", count: 10))
    }

    @Test("a tag's attributes never reach the text")
    func attributes() {
        #expect(ReadableText.prefix(of: "<img alt=\"secret words\" src=\"/media/a.png\"><p>shown</p>", limit: 100) == "shown")
    }
}
