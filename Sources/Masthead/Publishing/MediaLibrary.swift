import Crypto
import Foundation

/// Stores uploaded images in the media folder under names derived from their content.
///
/// Only JPEG, PNG and WebP are taken, recognised by their bytes rather than the name or type
/// the browser claims; SVG is refused because it can carry script. The pixel size is read from
/// the file so pages can reserve the image's space before it loads, and the metadata cameras
/// write (location, device) is removed before anything is stored.
struct MediaLibrary: Sendable {
    static let maximumBytes = 10 * 1024 * 1024

    enum Problem: Error, Equatable, CustomStringConvertible {
        case empty
        case tooLarge
        case unsupportedType
        case unreadableSize

        var description: String {
            switch self {
            case .empty: "The uploaded file is empty."
            case .tooLarge: "Images may be at most 10 MB."
            case .unsupportedType: "Upload a JPEG, PNG or WebP image."
            case .unreadableSize: "The image's dimensions could not be read; the file may be damaged."
            }
        }
    }

    let directory: String

    func store(_ data: Data) throws -> ArticleDraft.Image {
        let (image, cleaned) = try Self.prepare(data)
        try write(cleaned, as: image.path)
        return image
    }

    /// The image as it would be stored (metadata removed) and the name it would have, without
    /// writing it: importers name every image before anything is written.
    static func prepare(_ data: Data) throws -> (image: ArticleDraft.Image, data: Data) {
        guard !data.isEmpty else { throw Problem.empty }
        guard data.count <= Self.maximumBytes else { throw Problem.tooLarge }
        guard let format = ImageFormat(data) else { throw Problem.unsupportedType }
        guard let size = format.pixelSize(of: data), size.width > 0, size.height > 0,
              let data = ImageMetadata.stripped(data, format: format)
        else { throw Problem.unreadableSize }
        let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
        let name = "upload-\(digest).\(format.fileExtension)"
        return (.init(path: name, width: size.width, height: size.height), data)
    }

    func write(_ data: Data, as name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: url.path) {
            try data.write(to: url, options: .atomic)
        }
    }
}

enum ImageFormat {
    case jpeg, png, webp

    init?(_ data: Data) {
        let bytes = [UInt8](data.prefix(16))
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.count >= 12, bytes[0..<4] == [0x52, 0x49, 0x46, 0x46], bytes[8..<12] == [0x57, 0x45, 0x42, 0x50] {
            self = .webp
        } else {
            return nil
        }
    }

    var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .webp: "webp"
        }
    }

    func pixelSize(of data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data)
        switch self {
        case .png:
            guard bytes.count >= 24 else { return nil }
            return (Self.bigEndian(bytes, 16, 4), Self.bigEndian(bytes, 20, 4))
        case .jpeg:
            return Self.jpegSize(bytes)
        case .webp:
            return Self.webpSize(bytes)
        }
    }

    /// Walks the JPEG segments to the first start-of-frame marker, which holds the size.
    private static func jpegSize(_ bytes: [UInt8]) -> (Int, Int)? {
        var index = 2
        while index + 9 < bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }
            let length = bigEndian(bytes, index + 2, 2)
            let isStartOfFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isStartOfFrame {
                return (bigEndian(bytes, index + 7, 2), bigEndian(bytes, index + 5, 2))
            }
            guard length >= 2 else { return nil }
            index += 2 + length
        }
        return nil
    }

    private static func webpSize(_ bytes: [UInt8]) -> (Int, Int)? {
        guard bytes.count >= 30 else { return nil }
        switch String(decoding: bytes[12..<16], as: UTF8.self) {
        case "VP8 ":
            return (littleEndian(bytes, 26, 2) & 0x3FFF, littleEndian(bytes, 28, 2) & 0x3FFF)
        case "VP8L":
            let bits = littleEndian(bytes, 21, 4)
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            return (littleEndian(bytes, 24, 3) + 1, littleEndian(bytes, 27, 3) + 1)
        default:
            return nil
        }
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        bytes[offset..<(offset + count)].reduce(0) { $0 << 8 | Int($1) }
    }

    private static func littleEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        bytes[offset..<(offset + count)].reversed().reduce(0) { $0 << 8 | Int($1) }
    }
}
