import Fluent
import Foundation
import SQLKit
import Vapor

/// `masthead import masthead`: brings back what `masthead export` wrote, into an empty
/// database, ids and timestamps included. Everything is checked before anything is written
/// (every row's columns and values, every media file's checksum), and the rows go in within
/// one transaction: a malformed file or a killed import leaves the database as it was.
public enum SiteImport {
    public struct MediaFile: Codable, Sendable {
        let path: String
        let bytes: Int64
        let sha256: String
    }

    public enum Step: Sendable {
        case checkingMedia(done: Int, total: Int)
        case copyingMedia(done: Int, total: Int)
        case rows(done: Int, total: Int)
    }

    public struct Summary: Sendable {
        public let rows: [String: Int]
        public let mediaFiles: Int
        public let exportedAt: String
        /// A rerun: every row the export holds is in the database already, and nothing was written.
        public var alreadyImported = false

        public func count(_ table: String) -> Int { rows[table] ?? 0 }
    }

    public static func run(
        _ app: Application, settings: Settings, from path: String, dryRun: Bool = false,
        progress: @escaping @Sendable (Step) -> Void = { _ in }
    ) async throws -> Summary {
        let source = try ImportSource(path)
        let document = try source.document()
        try checkMigrations(document.migrations)
        let sql = app.backgroundDatabase as! any SQLDatabase
        let rows = try ImportRows(document: document, postgres: sql.dialect.name == "postgresql")
        try source.checkMedia(document.media, progress: progress)
        var summary = Summary(rows: rows.counts, mediaFiles: document.media.count, exportedAt: document.exportedAt)
        if try await holdsEvery(row: document, sql) {
            summary.alreadyImported = true
            return summary
        }
        try await requireEmpty(sql)
        if dryRun { return summary }

        // Media is staged under hidden names and placed only once the rows are in: an import
        // that fails publishes nothing.
        let media = try source.stageMedia(document.media, into: settings.mediaDirectory, progress: progress)
        do {
            try await write(rows, into: app.backgroundDatabase, progress: progress)
        } catch {
            media.discard()
            throw error
        }
        try media.place()
        return summary
    }

    private static func write(_ rows: ImportRows, into database: any Database, progress: @escaping @Sendable (Step) -> Void) async throws {
        try await database.writeTransaction { database in
            let sql = database as! any SQLDatabase
            try await requireEmpty(sql)
            for table in ExportSchema.tables.reversed() {
                try await sql.delete(from: table.name).run()
            }
            try await rows.insert(into: sql, progress: progress)
            try await ContentGeneration.bump(on: database, purging: .everything)
            // Asked for with the rows, so an import killed before the index is filled leaves
            // the rebuild to the site's next start instead of a half-empty index.
            _ = try await SearchRebuilds(database: database).request(by: requester)
        }
    }

    static let requester = "masthead import"

    private static func checkMigrations(_ migrations: [String]) throws {
        let known = Set(MastheadMigrations.all.map(\.name))
        if let unknown = migrations.first(where: { !known.contains($0) }) {
            throw ImportError("the export was made by a newer Masthead (its schema includes \(unknown)): upgrade this one first")
        }
    }

    private static func holdsEvery(row document: ExportDocument, _ sql: any SQLDatabase) async throws -> Bool {
        var found = false
        for table in ExportSchema.tables {
            guard let exported = document.tables[table.name], !exported.isEmpty else { continue }
            let byID = table.keyType == .uuid
            let present = Set(try await sql.select().column(table.key).from(table.name).all().map { row in
                byID ? try row.decode(column: table.key, as: UUID.self).uuidString.lowercased() : try row.decode(column: table.key, as: String.self)
            })
            let keys = exported.compactMap { row -> String? in
                guard case .text(let key)? = row[table.key] else { return nil }
                return byID ? key.lowercased() : key
            }
            guard keys.allSatisfy(present.contains) else { return false }
            found = true
        }
        return found
    }

    /// An import fills a new site; one that already has people or content would be merged
    /// into, and ids would collide.
    private static func requireEmpty(_ sql: any SQLDatabase) async throws {
        for table in ExportSchema.tables where table.name != "site_settings" {
            let count = try await ExportRows.count(of: table, on: sql)
            if count > 0 {
                throw ImportError("the database already holds a site (\(count) rows in \(table.name)): import into an empty database")
            }
        }
    }
}

public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

struct ExportDocument: Decodable {
    let format: String
    let version: Int
    let exportedAt: String
    let migrations: [String]
    let tables: [String: [[String: ExportValue]]]
    let media: [SiteImport.MediaFile]

    struct Header: Decodable {
        let format: String?
        let version: Int?
    }
}

/// Where an export is read from: its folder (the document and `media/` inside) or the
/// document itself (with `media/` beside it, if the export lists any).
struct ImportSource {
    let documentPath: String
    let mediaFolder: String

    init(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ImportError("\(path) does not exist")
        }
        let folder = isFolder.boolValue ? path : (path as NSString).deletingLastPathComponent
        documentPath = isFolder.boolValue ? (path as NSString).appendingPathComponent(SiteExport.documentName) : path
        mediaFolder = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(BackupFolder.media)
    }

    func document() throws -> ExportDocument {
        guard let data = FileManager.default.contents(atPath: documentPath) else {
            throw ImportError("cannot read \(documentPath)")
        }
        let decoder = JSONDecoder()
        let header: ExportDocument.Header
        do {
            header = try decoder.decode(ExportDocument.Header.self, from: data)
        } catch {
            throw ImportError("\(documentPath) cannot be read as JSON: it is damaged, or not an export")
        }
        guard header.format == ExportSchema.formatName else {
            throw ImportError("\(documentPath) is not a Masthead export (its format is \(header.format.map { "'\($0)'" } ?? "not named"))")
        }
        guard header.version == ExportSchema.version else {
            throw ImportError("\(documentPath) is a version \(header.version.map(String.init) ?? "?") export; this Masthead reads version \(ExportSchema.version)")
        }
        do {
            return try decoder.decode(ExportDocument.self, from: data)
        } catch let error as DecodingError {
            throw ImportError("\(documentPath) is damaged: \(Self.describe(error))")
        }
    }

    /// Media files an import may bring: flat names of the kinds uploads and the demo use,
    /// never scripts or styles, which the site would serve from its own origin.
    static let mediaExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "svg"]

    func checkMedia(_ media: [SiteImport.MediaFile], progress: @Sendable (SiteImport.Step) -> Void) throws {
        progress(.checkingMedia(done: 0, total: media.count))
        if !media.isEmpty {
            var status = stat()
            guard lstat(mediaFolder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw ImportError("the export lists \(media.count) media files, but \(mediaFolder) is not a folder (a link is not followed)")
            }
        }
        for (done, file) in media.enumerated() {
            try Self.checkName(file)
            let digest = try MediaCopy.read(source(of: file)) { _ in }
            guard digest == .init(bytes: file.bytes, sha256: file.sha256) else {
                throw ImportError("media/\(file.path) does not match its checksum in the export: the copy is damaged")
            }
            progress(.checkingMedia(done: done + 1, total: media.count))
        }
    }

    /// Copies each file beside its final place under a hidden name, checking its checksum on
    /// the bytes actually copied; `MediaCopy.place` renames them in once the rows are committed.
    func stageMedia(_ media: [SiteImport.MediaFile], into destination: String, progress: @Sendable (SiteImport.Step) -> Void) throws -> MediaCopy {
        var staged = MediaCopy(folder: destination)
        do {
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
            progress(.copyingMedia(done: 0, total: media.count))
            for (done, file) in media.enumerated() {
                try staged.stage(from: source(of: file), named: file.path, expecting: .init(bytes: file.bytes, sha256: file.sha256))
                progress(.copyingMedia(done: done + 1, total: media.count))
            }
        } catch {
            staged.discard()
            throw error
        }
        return staged
    }

    private static func checkName(_ file: SiteImport.MediaFile) throws {
        guard MediaFileName.isValid(file.path) else {
            throw ImportError("the export lists a media file outside its media folder, or with a name uploads never have: \(file.path)")
        }
        guard mediaExtensions.contains((file.path as NSString).pathExtension.lowercased()) else {
            throw ImportError("media/\(file.path) is not an image (only PNG, JPEG, WebP and SVG files are imported)")
        }
    }

    private func source(of file: SiteImport.MediaFile) throws -> String {
        try Self.checkName(file)
        return (mediaFolder as NSString).appendingPathComponent(file.path)
    }

    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map { $0.intValue.map { "#\($0 + 1)" } ?? $0.stringValue }.joined(separator: " › ")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(at(context.codingPath)) lacks \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(at(context.codingPath)) has a value of the wrong kind"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "it is not valid JSON" : "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "it cannot be read"
        }
    }
}
