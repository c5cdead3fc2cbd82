import Foundation
import Ink

/// An article body rendered from Markdown and split into the part anyone may read and the rest.
///
/// The split is made on the Markdown source, so the two halves are each well-formed HTML:
/// at an explicit `<!-- paywall -->` line if the editor placed one, else after a set number
/// of top-level blocks (paragraphs, headings, lists, quotes).
struct ArticleBody {
    static let paywallMarker = "<!-- paywall -->"

    let previewHTML: String
    let restHTML: String

    init(markdown: String, previewParagraphs: Int) {
        let (preview, rest) = Self.split(markdown, previewParagraphs: previewParagraphs)
        let parser = MarkdownParser()
        previewHTML = BodyHTML.sanitized(parser.html(from: preview))
        restHTML = rest.isEmpty ? "" : BodyHTML.sanitized(parser.html(from: rest))
    }

    static func split(_ markdown: String, previewParagraphs: Int) -> (preview: String, rest: String) {
        let lines = markdown.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        if let markerIndex = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == paywallMarker }) {
            return (
                lines[..<markerIndex].joined(separator: "\n").trimmingBlankLines(),
                lines[(markerIndex + 1)...].joined(separator: "\n").trimmingBlankLines()
            )
        }
        let blocks = topLevelBlocks(lines)
        guard blocks.count > previewParagraphs else { return (markdown.trimmingBlankLines(), "") }
        return (
            blocks[..<previewParagraphs].joined(separator: "\n\n"),
            blocks[previewParagraphs...].joined(separator: "\n\n")
        )
    }

    /// Groups lines into blank-line-separated blocks, keeping a heading with the block after it
    /// so that a preview never ends on a dangling subheading.
    private static func topLevelBlocks(_ lines: [String]) -> [String] {
        var blocks: [String] = []
        var current: [String] = []
        var headingPending = false
        for line in lines {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard !current.isEmpty else { continue }
                if headingPending { current.append(""); continue }
                blocks.append(current.joined(separator: "\n"))
                current = []
            } else {
                current.append(line)
                headingPending = line.hasPrefix("#") && current.count == 1
                    || (headingPending && line.hasPrefix("#"))
            }
        }
        if !current.isEmpty { blocks.append(current.joined(separator: "\n")) }
        return blocks
    }
}

private extension String {
    func trimmingBlankLines() -> String {
        trimmingCharacters(in: .newlines)
    }
}
