import Foundation
import Testing
@testable import Masthead

@Suite("Uploaded images")
struct MediaLibraryTests {
    private func library() -> MediaLibrary {
        MediaLibrary(directory: FileManager.default.temporaryDirectory.appendingPathComponent("masthead-media-\(UUID().uuidString)").path)
    }

    @Test("a PNG is stored under a name from its content, with its pixel size")
    func png() throws {
        let data = try #require(FileManager.default.contents(atPath: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png").path))
        let media = library()
        let image = try media.store(data)
        #expect(image.width == 160 && image.height == 90)
        #expect(image.path.hasPrefix("upload-") && image.path.hasSuffix(".png"))
        #expect(FileManager.default.contents(atPath: "\(media.directory)/\(image.path)") == data)
        #expect(try media.store(data) == image)
    }

    @Test("JPEG and WebP sizes are read from their headers")
    func jpegAndWebP() {
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x1C, 0x04, 0xB0, 0x03, 0, 0, 0, 0, 0, 0]
        let jpegSize = ImageFormat(Data(jpeg))?.pixelSize(of: Data(jpeg))
        #expect(jpegSize?.width == 1200 && jpegSize?.height == 540)
        var webp = Array("RIFF\0\0\0\0WEBPVP8X".utf8) + [UInt8](repeating: 0, count: 8)
        webp += [0x7F, 0x07, 0x00, 0x1B, 0x02, 0x00]
        let webpSize = ImageFormat(Data(webp))?.pixelSize(of: Data(webp))
        #expect(webpSize?.width == 1920 && webpSize?.height == 540)
    }

    @Test("SVG, unknown, empty and oversized files are refused, and nothing is written")
    func refused() {
        let media = library()
        #expect(throws: MediaLibrary.Problem.unsupportedType) { try media.store(Data("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8)) }
        #expect(throws: MediaLibrary.Problem.unsupportedType) { try media.store(Data("GIF89a".utf8)) }
        #expect(throws: MediaLibrary.Problem.empty) { try media.store(Data()) }
        #expect(throws: MediaLibrary.Problem.tooLarge) { try media.store(Data(count: MediaLibrary.maximumBytes + 1)) }
        #expect(throws: MediaLibrary.Problem.unreadableSize) { try media.store(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) }
        #expect(!FileManager.default.fileExists(atPath: media.directory))
    }
}

@Suite("Line differences")
struct LineDiffTests {
    @Test("unchanged lines are kept, and changes show as removals then additions")
    func compare() {
        #expect(LineDiff.compare("a\nb\nc", "a\nB\nc") == [.same("a"), .removed("b"), .added("B"), .same("c")])
        #expect(LineDiff.compare("", "new") == [.removed(""), .added("new")])
        #expect(LineDiff.compare("same", "same") == [.same("same")])
    }
}

@Suite("Slugs from headlines")
struct SlugTests {
    @Test("a headline becomes lowercase Latin words joined by hyphens")
    func fromTitle() {
        #expect(Slug.from("Border trade resumes at Al-Qaim") == "border-trade-resumes-at-al-qaim")
        #expect(Slug.from("Türkiye's élite: what’s next?") == "turkiyes-elite-whats-next")
        #expect(Slug.from("توقيع اتفاق المياه") == "")
    }
}
