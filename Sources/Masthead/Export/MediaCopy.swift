import Foundation

/// Media files copied into the media folder under hidden names, to be renamed into place
/// together or discarded together. Sources are opened without following a link at their last
/// step and must be regular files, so an export cannot copy another file of this machine into
/// the public folder; the checksum is taken of the bytes copied, not of an earlier read.
struct MediaCopy {
    let folder: String
    private var staged: [(temporary: String, final: String)] = []

    init(folder: String) {
        self.folder = folder
    }

    mutating func stage(from source: String, named name: String, expecting digest: BackupManifest.File.Digest) throws {
        let final = (folder as NSString).appendingPathComponent(name)
        if (try? Self.read(final) { _ in }) == digest { return }
        let temporary = (folder as NSString).appendingPathComponent(".import-\(UUID().uuidString.prefix(8))-\(name)")
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o644]) else {
            throw ImportError("cannot write \(temporary)")
        }
        staged.append((temporary, final))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        defer { try? output.close() }
        let copied = try Self.read(source) { try output.write(contentsOf: $0) }
        guard copied == digest else {
            throw ImportError("media/\(name) does not match its checksum in the export: the copy is damaged")
        }
        try output.synchronize()
    }

    func place() throws {
        for file in staged where rename(file.temporary, file.final) != 0 {
            throw ImportError("cannot move \(file.temporary) into place: \(String(cString: strerror(errno)))")
        }
    }

    func discard() {
        for file in staged { unlink(file.temporary) }
    }

    /// Reads a regular file, never through a link, handing on each chunk, and hashes it.
    static func read(_ path: String, each: (Data) throws -> Void) throws -> BackupManifest.File.Digest {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw ImportError(errno == ELOOP ? "\(path) is a link; the export's media must be plain files" : "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let input = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw ImportError("\(path) is not a regular file")
        }
        return try BackupFolder.digest(reading: input, each: each)
    }
}
