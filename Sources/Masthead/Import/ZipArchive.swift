import CompressNIO
import Foundation
import NIOCore

/// A ZIP archive (PKWARE's APPNOTE: stored or deflated entries, ZIP64 included), read entry by
/// entry from disk so that an export of many gigabytes is never held whole. Entries are only
/// looked up by name and read into memory, never written out under their names, so a name
/// such as `../../etc/passwd` can do no harm.
struct ZipArchive {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let crc: UInt32
        let compressedSize: UInt64
        let size: UInt64
        let headerOffset: UInt64
    }

    let entries: [Entry]
    private let handle: FileHandle
    private let fileSize: UInt64

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Malformed(description: "cannot be opened") }
        self.handle = handle
        fileSize = try handle.seekToEnd()
        let tailLength = min(fileSize, 22 + 65_535)
        let tail = try Self.read(handle, at: fileSize - tailLength, count: Int(tailLength), size: fileSize)
        guard let end = Self.lastIndex(of: 0x0605_4b50, in: tail) else { throw Malformed(description: "is not a ZIP archive") }
        var count = UInt64(tail.uint16(at: end + 10))
        var directorySize = UInt64(tail.uint32(at: end + 12))
        var directoryOffset = UInt64(tail.uint32(at: end + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            guard end >= 20, tail.uint32(at: end - 20) == 0x0706_4b50 else { throw Malformed(description: "claims ZIP64 sizes but has no ZIP64 record") }
            let record = try Self.read(handle, at: tail.uint64(at: end - 20 + 8), count: 56, size: fileSize)
            guard record.uint32(at: 0) == 0x0606_4b50 else { throw Malformed(description: "has a broken ZIP64 record") }
            count = record.uint64(at: 32)
            directorySize = record.uint64(at: 40)
            directoryOffset = record.uint64(at: 48)
        }
        guard directorySize <= 512 * 1_024 * 1_024 else { throw Malformed(description: "has a central directory larger than 512 MB") }
        let directory = try Self.read(handle, at: directoryOffset, count: Int(directorySize), size: fileSize)
        var entries: [Entry] = []
        var position = 0
        for _ in 0..<count {
            guard position + 46 <= directory.count, directory.uint32(at: position) == 0x0201_4b50 else {
                throw Malformed(description: "has a broken central directory")
            }
            let nameLength = Int(directory.uint16(at: position + 28))
            let extraLength = Int(directory.uint16(at: position + 30))
            let commentLength = Int(directory.uint16(at: position + 32))
            let next = position + 46 + nameLength + extraLength + commentLength
            guard next <= directory.count else { throw Malformed(description: "has a broken central directory") }
            var size = UInt64(directory.uint32(at: position + 24))
            var compressedSize = UInt64(directory.uint32(at: position + 20))
            var headerOffset = UInt64(directory.uint32(at: position + 42))
            var extra = position + 46 + nameLength
            let extraEnd = position + 46 + nameLength + extraLength
            while extra + 4 <= extraEnd {
                let id = directory.uint16(at: extra)
                let length = Int(directory.uint16(at: extra + 2))
                if id == 0x0001 {
                    // Only the sizes the directory marks as too large for 32 bits are here, in this order.
                    var field = extra + 4
                    let fieldEnd = min(field + length, extraEnd)
                    func widened(_ value: inout UInt64) {
                        guard value == 0xFFFF_FFFF, field + 8 <= fieldEnd else { return }
                        value = directory.uint64(at: field)
                        field += 8
                    }
                    widened(&size)
                    widened(&compressedSize)
                    widened(&headerOffset)
                }
                extra += 4 + length
            }
            let nameBytes = directory.subdata(in: position + 46..<position + 46 + nameLength)
            entries.append(Entry(
                name: String(decoding: nameBytes, as: UTF8.self), method: directory.uint16(at: position + 10), flags: directory.uint16(at: position + 8),
                crc: directory.uint32(at: position + 16), compressedSize: compressedSize, size: size, headerOffset: headerOffset
            ))
            position = next
        }
        self.entries = entries
    }

    /// An entry's bytes, checked against its size and CRC-32; refused when larger than `limit`.
    func data(of entry: Entry, limit: Int) throws -> Data {
        guard entry.flags & 1 == 0 else { throw Malformed(description: "has \(entry.name) encrypted") }
        // Deflate adds at most a few bytes per block to what it cannot shrink.
        guard entry.size <= UInt64(limit), entry.compressedSize <= UInt64(limit + limit / 100 + 1_024) else {
            throw Malformed(description: "has \(entry.name) larger than \(limit / 1_048_576) MB")
        }
        let header = try Self.read(handle, at: entry.headerOffset, count: 30, size: fileSize)
        guard header.uint32(at: 0) == 0x0403_4b50 else { throw Malformed(description: "has a broken header for \(entry.name)") }
        let start = entry.headerOffset + 30 + UInt64(header.uint16(at: 26)) + UInt64(header.uint16(at: 28))
        let stored = try Self.read(handle, at: start, count: Int(entry.compressedSize), size: fileSize)
        let bytes: Data
        switch entry.method {
        case 0:
            bytes = stored
        case 8:
            var buffer = ByteBuffer(data: stored)
            do {
                var inflated = try buffer.decompress(with: .deflate(), maxSize: max(Int(entry.size), 1))
                bytes = inflated.readData(length: inflated.readableBytes) ?? Data()
            } catch {
                throw Malformed(description: "has \(entry.name) damaged or larger than it says")
            }
        default:
            throw Malformed(description: "has \(entry.name) compressed in a way this reader does not know (method \(entry.method))")
        }
        guard UInt64(bytes.count) == entry.size, CRC32.checksum(bytes) == entry.crc else {
            throw Malformed(description: "has \(entry.name) damaged (its size or checksum does not match)")
        }
        return bytes
    }

    /// Bytes of the file, refused when the archive's numbers point outside it.
    private static func read(_ handle: FileHandle, at offset: UInt64, count: Int, size: UInt64) throws -> Data {
        guard offset <= size, UInt64(count) <= size - offset else { throw Malformed(description: "points outside itself") }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw Malformed(description: "is cut short") }
        return data
    }

    private static func lastIndex(of signature: UInt32, in data: Data) -> Int? {
        var index = data.count - 22
        while index >= 0 {
            if data.uint32(at: index) == signature { return index }
            index -= 1
        }
        return nil
    }
}

/// The CRC-32 of ZIP and gzip (the reflected polynomial 0xEDB88320).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

private extension Data {
    func uint16(at offset: Int) -> UInt16 {
        let base = startIndex + offset
        return UInt16(self[base]) | UInt16(self[base + 1]) << 8
    }

    func uint32(at offset: Int) -> UInt32 {
        UInt32(uint16(at: offset)) | UInt32(uint16(at: offset + 2)) << 16
    }

    func uint64(at offset: Int) -> UInt64 {
        UInt64(uint32(at: offset)) | UInt64(uint32(at: offset + 4)) << 32
    }
}
