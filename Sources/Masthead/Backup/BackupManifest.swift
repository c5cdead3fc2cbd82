import Foundation
import Crypto

/// What a backup folder holds, written last: a folder without it is a backup that did not
/// finish. Every file is listed with its size and SHA-256, which a restore checks before it
/// touches anything.
struct BackupManifest: Codable, Sendable {
    static let fileName = "manifest.json"
    static let formatName = "masthead-backup"
    static let currentVersion = 1

    struct File: Codable, Sendable {
        /// Relative to the backup folder, with `/` between folders.
        let path: String
        let bytes: Int64
        let sha256: String
    }

    enum DatabaseKind: String, Codable, Sendable {
        case sqlite
        case postgresql

        /// The database's file in the backup folder.
        var fileName: String { self == .sqlite ? "database.sqlite" : "database.pgdump" }
    }

    let format: String
    let version: Int
    let createdAt: Date
    let database: DatabaseKind
    /// How many of Masthead's migrations the database had: a restore refuses a backup made by a
    /// newer Masthead than itself.
    let migrations: Int
    let files: [File]

    var mediaFiles: [File] { files.filter { $0.path.hasPrefix(BackupFolder.media + "/") } }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    static func read(from folder: String) throws -> BackupManifest {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError("\(folder) has no \(fileName): it is not a Masthead backup, or the backup did not finish")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let manifest = try? decoder.decode(BackupManifest.self, from: data), manifest.format == formatName else {
            throw BackupError("\(path) is not a Masthead backup manifest")
        }
        guard manifest.version <= currentVersion else {
            throw BackupError("the backup is in format version \(manifest.version), newer than this Masthead reads (\(currentVersion)): restore it with a newer Masthead")
        }
        return manifest
    }
}

/// A reason a backup or restore cannot go on, said in one line.
public struct BackupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The layout of a backup folder, and file copies that hash what they copy.
enum BackupFolder {
    static let media = "media"

    /// Fills a new folder through `fill`, which writes into a hidden folder beside it that is
    /// renamed into place only when complete: a killed run never looks like a finished one.
    /// Returns the folder's full path.
    static func writeNew(_ folder: String, describing what: String, _ fill: (String) async throws -> Void) async throws -> String {
        let files = FileManager.default
        let destination = URL(fileURLWithPath: folder).standardizedFileURL.path
        var isFolder: ObjCBool = false
        if files.fileExists(atPath: destination, isDirectory: &isFolder) {
            guard isFolder.boolValue, (try files.contentsOfDirectory(atPath: destination)).isEmpty else {
                throw BackupError("\(folder) already exists and is not an empty folder: write the \(what) into a new folder")
            }
        }
        let parent = (destination as NSString).deletingLastPathComponent
        let staging = (parent as NSString).appendingPathComponent(".\((destination as NSString).lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try files.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try files.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError("cannot create the \(what) folder \(folder): \(error.localizedDescription)")
        }
        do {
            try await fill(staging)
            try flush(staging)
            if files.fileExists(atPath: destination) { try files.removeItem(atPath: destination) }
            try files.moveItem(atPath: staging, toPath: destination)
            try flush(parent)
            return destination
        } catch {
            try? files.removeItem(atPath: staging)
            throw error
        }
    }

    /// Copies a file, hashing it on the way, and flushes the copy to disk.
    static func copy(_ source: String, to destination: String, permissions: Int = 0o600) throws -> BackupManifest.File.Digest {
        FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: permissions])
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: destination))
        defer { try? output.close() }
        let digest = try read(source) { try output.write(contentsOf: $0) }
        try output.synchronize()
        return digest
    }

    static func digest(of path: String) throws -> BackupManifest.File.Digest {
        try read(path) { _ in }
    }

    /// Reads a file a chunk at a time, handing each on, and hashes it.
    private static func read(_ path: String, each: (Data) throws -> Void) throws -> BackupManifest.File.Digest {
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? input.close() }
        return try digest(reading: input, each: each)
    }

    /// Reads an open file to its end, handing on each chunk, and hashes it.
    static func digest(reading input: FileHandle, each: (Data) throws -> Void) throws -> BackupManifest.File.Digest {
        var hasher = SHA256()
        var bytes: Int64 = 0
        while let chunk = try input.read(upToCount: chunkSize), !chunk.isEmpty {
            hasher.update(data: chunk)
            try each(chunk)
            bytes += Int64(chunk.count)
        }
        return .init(bytes: bytes, sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// Flushes a file the database wrote (VACUUM INTO does not) or a folder's entries to disk.
    static func flush(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BackupError("cannot open \(path) to flush it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BackupError("cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
    }

    /// Regular files under a folder, as sorted relative paths; none if the folder does not exist.
    static func files(under folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { found.append(relative) }
        }
        return found.sorted()
    }

    private static let chunkSize = 1 << 20
}

extension BackupManifest.File {
    struct Digest: Equatable {
        let bytes: Int64
        let sha256: String
    }

    var digest: Digest { Digest(bytes: bytes, sha256: sha256) }
}
