import Foundation

/// Removes what a camera or editing app wrote about a photo (EXIF with GPS position and device
/// serial numbers, XMP, IPTC, comments, text chunks) before it is published: for a newsroom,
/// where a picture was taken and with whose phone can expose a source. Pixels and colour
/// information stay as they were; nothing is re-encoded.
enum ImageMetadata {
    /// The image without its metadata, or nil when its structure is damaged.
    static func stripped(_ data: Data, format: ImageFormat) -> Data? {
        let bytes = [UInt8](data)
        switch format {
        case .jpeg: return jpeg(bytes).map { Data($0) }
        case .png: return png(bytes).map { Data($0) }
        case .webp: return webp(bytes).map { Data($0) }
        }
    }

    /// JPEG segments kept: everything but APP1 (EXIF, XMP), APP3–APP13 and APP15 (vendor and
    /// IPTC data) and comments. APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour
    /// transform) stay, since dropping them would change the colours.
    private static func jpeg(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var output: [UInt8] = [0xFF, 0xD8]
        var index = 2
        while index + 1 < bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }
            if marker == 0xD9 || (0xD0...0xD7).contains(marker) || marker == 0x01 {
                output += bytes[index..<(index + 2)]
                index += 2
                if marker == 0xD9 { return output }
                continue
            }
            guard index + 3 < bytes.count else { return nil }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard length >= 2, index + 2 + length <= bytes.count else { return nil }
            if marker == 0xDA {
                // Start of scan: the compressed picture runs to the end of the file.
                output += bytes[index...]
                return output
            }
            let isMetadata = marker == 0xE1 || (0xE3...0xED).contains(marker) || marker == 0xEF || marker == 0xFE
            if !isMetadata { output += bytes[index..<(index + 2 + length)] }
            index += 2 + length
        }
        return nil
    }

    private static let pngTextChunks: Set<String> = ["tEXt", "zTXt", "iTXt", "eXIf", "tIME"]

    private static func png(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 8 else { return nil }
        var output = Array(bytes[0..<8])
        var index = 8
        while index + 12 <= bytes.count {
            let length = bytes[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(index + 4)..<(index + 8)], as: UTF8.self)
            let end = index + 12 + length
            guard length >= 0, end <= bytes.count else { return nil }
            if !pngTextChunks.contains(type) { output += bytes[index..<end] }
            index = end
            if type == "IEND" { return output }
        }
        return nil
    }

    /// WebP (RIFF) without its EXIF and XMP chunks, with the extended header's flags and the
    /// RIFF size made to match.
    private static func webp(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 12 else { return nil }
        var chunks: [UInt8] = []
        var index = 12
        while index + 8 <= bytes.count {
            let fourCC = String(decoding: bytes[index..<(index + 4)], as: UTF8.self)
            let size = bytes[(index + 4)..<(index + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
            let end = index + 8 + size + (size % 2)
            guard end <= bytes.count || index + 8 + size == bytes.count else { return nil }
            var chunk = Array(bytes[index..<min(end, bytes.count)])
            if fourCC == "VP8X", chunk.count > 8 { chunk[8] &= ~UInt8(0x0C) }
            if fourCC != "EXIF" && fourCC != "XMP " { chunks += chunk }
            index = end
        }
        let riffSize = UInt32(4 + chunks.count)
        return Array(bytes[0..<4]) + withUnsafeBytes(of: riffSize.littleEndian, Array.init) + Array(bytes[8..<12]) + chunks
    }
}
