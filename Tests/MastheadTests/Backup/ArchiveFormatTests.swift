import Foundation
import Testing
@testable import Masthead

/// The CSV and ZIP readers behind the Substack import, on the corners real exports reach.
@Suite("Reading CSV and ZIP files")
struct ArchiveFormatTests {
    @Test("CSV fields keep quoted commas, quotes and line breaks, and a byte-order mark is ignored")
    func quotedFields() throws {
        let table = try CSVTable(Data("\u{FEFF}Email,Note\r\na@example.com,\"one, \"\"two\"\"\nthree\"\r\nb@example.com,\r\n".utf8))
        #expect(table.columns == ["email", "note"])
        #expect(table.rows == [["email": "a@example.com", "note": "one, \"two\"\nthree"], ["email": "b@example.com", "note": ""]])
    }

    @Test("a CSV row with more or fewer fields than its header is refused with its line")
    func ragged() {
        let refusal = #expect(throws: CSVTable.Malformed.self) { try CSVTable(Data("email,name\na@example.com\n".utf8)) }
        #expect(refusal?.description == "has 1 fields in row 1 where its header has 2")
    }

    /// A one-entry ZIP64 archive as a writer of large archives makes it: every size and offset
    /// in the central directory is 0xFFFFFFFF, the real ones in its ZIP64 extra field, and the
    /// end record points to a ZIP64 end record.
    static func zip64(name: String, content: Data) -> Data {
        var bytes = Data()
        func le<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        let crc = CRC32.checksum(content)
        let nameBytes = Data(name.utf8)
        le(UInt32(0x0403_4b50)); le(UInt16(45)); le(UInt16(0)); le(UInt16(0)); le(UInt32(0)); le(crc)
        le(UInt32.max); le(UInt32.max); le(UInt16(nameBytes.count)); le(UInt16(20))
        bytes.append(nameBytes); le(UInt16(1)); le(UInt16(16)); le(UInt64(content.count)); le(UInt64(content.count))
        bytes.append(content)
        let directoryOffset = bytes.count
        le(UInt32(0x0201_4b50)); le(UInt16(45)); le(UInt16(45)); le(UInt16(0)); le(UInt16(0)); le(UInt32(0)); le(crc)
        le(UInt32.max); le(UInt32.max); le(UInt16(nameBytes.count)); le(UInt16(28)); le(UInt16(0)); le(UInt16(0)); le(UInt16(0))
        le(UInt32(0)); le(UInt32.max)
        bytes.append(nameBytes); le(UInt16(1)); le(UInt16(24)); le(UInt64(content.count)); le(UInt64(content.count)); le(UInt64(0))
        let directorySize = bytes.count - directoryOffset
        let recordOffset = bytes.count
        le(UInt32(0x0606_4b50)); le(UInt64(44)); le(UInt16(45)); le(UInt16(45)); le(UInt32(0)); le(UInt32(0))
        le(UInt64(1)); le(UInt64(1)); le(UInt64(directorySize)); le(UInt64(directoryOffset))
        le(UInt32(0x0706_4b50)); le(UInt32(0)); le(UInt64(recordOffset)); le(UInt32(1))
        le(UInt32(0x0605_4b50)); le(UInt16(0)); le(UInt16(0)); le(UInt16.max); le(UInt16.max); le(UInt32.max); le(UInt32.max); le(UInt16(0))
        return bytes
    }

    @Test("a ZIP64 archive's entries are found and read through its ZIP64 records")
    func zip64() throws {
        let content = Data("post_id,title\n1.a,A\n".utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-zip64-\(UUID().uuidString).zip").path
        try Self.zip64(name: "posts.csv", content: content).write(to: URL(fileURLWithPath: path))
        let archive = try ZipArchive(path: path)
        let entry = try #require(archive.entries.first)
        #expect(archive.entries.count == 1 && entry.name == "posts.csv" && entry.size == UInt64(content.count))
        #expect(try archive.data(of: entry, limit: 1_024) == content)
        #expect(throws: ZipArchive.Malformed.self) { try archive.data(of: entry, limit: 8) }
    }
}
