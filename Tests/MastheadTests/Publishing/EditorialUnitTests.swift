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

    @Test("a PNG's text chunks are removed before it is stored, leaving the picture's bytes as they were")
    func pngMetadataRemoved() throws {
        let original = try #require(FileManager.default.contents(atPath: TestSettings.repositoryRoot.appendingPathComponent("Tests/MastheadTests/Support/lead-image.png").path))
        let text = Array("Author".utf8) + [0] + Array("Anonymous source, 33.31N 44.36E".utf8)
        var chunk = withUnsafeBytes(of: UInt32(text.count).bigEndian, Array.init) + Array("tEXt".utf8) + text
        chunk += [0, 0, 0, 0]
        let withText = Data(original.prefix(33) + chunk + original.dropFirst(33))
        let media = library()
        let image = try media.store(withText)
        #expect(FileManager.default.contents(atPath: "\(media.directory)/\(image.path)") == original)
    }

    @Test("a JPEG loses its EXIF and comments but keeps its frame, colour profile and picture")
    func jpegMetadataRemoved() throws {
        func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
            [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        }
        let app0 = segment(0xE0, Array("JFIF\0".utf8))
        let exif = segment(0xE1, Array("Exif\0\0GPS 33.31N 44.36E".utf8))
        let icc = segment(0xE2, Array("ICC_PROFILE\0".utf8))
        let comment = segment(0xFE, Array("Shot on a reporter's phone".utf8))
        let frame = segment(0xC0, [0x08, 0x00, 0x5A, 0x00, 0xA0, 0x01, 0x01, 0x11, 0x00])
        let scan: [UInt8] = [0xFF, 0xDA, 0x00, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0xFF, 0xD9]
        let jpeg = Data([0xFF, 0xD8] + app0 + exif + icc + comment + frame + scan)
        let media = library()
        let image = try media.store(jpeg)
        #expect(image.width == 160 && image.height == 90)
        let stored = try #require(FileManager.default.contents(atPath: "\(media.directory)/\(image.path)"))
        #expect(stored == Data([0xFF, 0xD8] + app0 + icc + frame + scan))
    }

    @Test("a WebP loses its EXIF chunk, and its header says so")
    func webpMetadataRemoved() throws {
        func chunk(_ name: String, _ data: [UInt8]) -> [UInt8] {
            Array(name.utf8) + withUnsafeBytes(of: UInt32(data.count).littleEndian, Array.init) + data + (data.count % 2 == 1 ? [0] : [])
        }
        let vp8x = chunk("VP8X", [0x08, 0, 0, 0, 0x9F, 0, 0, 0x59, 0, 0])
        let exif = chunk("EXIF", Array("GPS 33.31N 44.36E".utf8))
        let picture = chunk("VP8L", [0x2F, 0x9F, 0x40, 0x16, 0x00, 0x00])
        let body = Array("WEBP".utf8) + vp8x + exif + picture
        let webp = Data(Array("RIFF".utf8) + withUnsafeBytes(of: UInt32(body.count).littleEndian, Array.init) + body)
        let media = library()
        let image = try media.store(webp)
        #expect(image.width == 160 && image.height == 90)
        let stored = [UInt8](try #require(FileManager.default.contents(atPath: "\(media.directory)/\(image.path)")))
        #expect(!String(decoding: stored, as: UTF8.self).contains("GPS"))
        #expect(stored[20] & 0x0C == 0)
        #expect(Int(stored[4]) | Int(stored[5]) << 8 == stored.count - 8)
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
