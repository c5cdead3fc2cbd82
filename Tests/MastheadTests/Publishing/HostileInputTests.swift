import Foundation
import Testing
@testable import Masthead

/// What an attacker might type into the editor or upload, against the sanitiser and the image parsers.
@Suite("Hostile input")
struct HostileInputTests {
    static let hostileMarkdown = [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "<a href=\"java&#x09;script:alert(1)\">x</a>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<form action=/admin/staff><button>go</button></form>",
        "<object data=\"x.swf\"></object><embed src=x>",
        "<meta http-equiv=refresh content=\"0;url=//evil.example\">",
        "<base href=\"//evil.example/\">",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<<script>script>alert(1)<</script>/script>",
        "<a href=\"/ok\" onmouseover=\"alert(1)\">x</a>",
        "<!--><script>alert(1)</script>-->",
        "`<script>alert(1)</script>`",
        "```\n<script>alert(1)</script>\n```",
        "<details open ontoggle=alert(1)>",
        "<p>\u{0}<script>alert(1)</script></p>",
    ]

    @Test("the sanitiser leaves no script, handler or dangerous address in what it keeps", arguments: hostileMarkdown)
    func sanitiserHoldsUp(markdown: String) {
        let html = ArticleBody(markdown: "Lead paragraph.\n\n" + markdown, previewParagraphs: 10).previewHTML.lowercased()
        // Escaped text may say anything; what matters is the tags the browser will parse.
        let tags = html.matches(of: /<[^>]*>/).map { String($0.output) }
        for tag in tags {
            for forbidden in ["<script", "<iframe", "<object", "<embed", "<form", "<button", "<meta", "<base", "<svg", "<style", "<details", "<math"] {
                #expect(!tag.hasPrefix(forbidden), "\(tag) survived in \(html)")
            }
            for forbidden in [" on", "style=", "javascript:", "vbscript:", "data:", "&#"] {
                #expect(!tag.contains(forbidden), "\(tag) survived in \(html)")
            }
        }
    }

    @Test("truncated and corrupted images are refused with a reason, never a crash")
    func truncatedImages() throws {
        let png = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/lead-image.png"))
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data("JFIF".utf8) + Data(repeating: 0, count: 10)
            + Data([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x00, 0x02, 0x00]) + Data(repeating: 1, count: 12) + Data([0xFF, 0xD9])
        let webp = Data("RIFF".utf8) + Data([0x20, 0, 0, 0]) + Data("WEBPVP8X".utf8) + Data(repeating: 0, count: 18)
        let library = MediaLibrary(directory: FileManager.default.temporaryDirectory.appendingPathComponent("masthead-media-\(UUID().uuidString)").path)
        for image in [png, jpeg, webp] {
            for length in stride(from: 0, to: image.count, by: max(1, image.count / 200)) {
                _ = try? library.store(image.prefix(length))
            }
            var corrupted = [UInt8](image)
            for index in stride(from: 8, to: corrupted.count, by: 7) { corrupted[index] = 0xFF }
            _ = try? library.store(Data(corrupted))
        }
        #expect(throws: MediaLibrary.Problem.self) { try library.store(png.prefix(20)) }
    }
}
