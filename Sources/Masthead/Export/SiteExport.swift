import Fluent
import Foundation
import SQLKit
import Vapor

/// `masthead export`: everything an outlet owns, as one JSON document (the format is in
/// docs/export-format.md) and, into a folder, its media beside it. Rows keep their ids and
/// timestamps, so `masthead import masthead` brings the site back as it was. The tables are
/// read in one transaction: the document is the site as it stood at one moment.
public enum SiteExport {
    public static let documentName = "masthead-export.json"

    public enum Step: Sendable {
        case rows(done: Int, total: Int)
        case media(done: Int, total: Int)
    }

    public struct Summary: Sendable {
        public let folder: String?
        public let rows: [String: Int]
        public let mediaFiles: Int

        public func count(_ table: String) -> Int { rows[table] ?? 0 }
    }

    /// The document alone, handed to `output` a piece at a time (for standard output). It
    /// still lists the media files, so an import knows what a folder beside it must hold.
    public static func write(
        _ app: Application, settings: Settings, now: Date = Date(), to output: @escaping @Sendable (Data) throws -> Void
    ) async throws -> Summary {
        let document = DocumentWriter(output)
        let rows = try await writeTables(app, into: document, now: now) { _ in }
        let media = try BackupFolder.files(under: settings.mediaDirectory).map { name in
            (name, try BackupFolder.digest(of: (settings.mediaDirectory as NSString).appendingPathComponent(name)))
        }
        try document.finish(media: media)
        return Summary(folder: nil, rows: rows, mediaFiles: media.count)
    }

    /// The document and a copy of the media, written into a new folder that appears complete or not at all.
    public static func save(
        _ app: Application, settings: Settings, into folder: String, now: Date = Date(), progress: @escaping @Sendable (Step) -> Void = { _ in }
    ) async throws -> Summary {
        var rows: [String: Int] = [:]
        var mediaCount = 0
        let destination = try await BackupFolder.writeNew(folder, describing: "export") { staging in
            let path = (staging as NSString).appendingPathComponent(documentName)
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw BackupError("cannot write \(path)")
            }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? file.close() }
            let document = DocumentWriter { try file.write(contentsOf: $0) }
            rows = try await writeTables(app, into: document, now: now, progress: progress)
            // Media files are named by their content and never change: those the rows name
            // were all written before the tables were read.
            let names = BackupFolder.files(under: settings.mediaDirectory)
            let mediaCopy = (staging as NSString).appendingPathComponent(BackupFolder.media)
            try FileManager.default.createDirectory(atPath: mediaCopy, withIntermediateDirectories: true)
            var media: [(String, BackupManifest.File.Digest)] = []
            progress(.media(done: 0, total: names.count))
            for name in names {
                try Task.checkCancellation()
                let target = (mediaCopy as NSString).appendingPathComponent(name)
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                media.append((name, try BackupFolder.copy((settings.mediaDirectory as NSString).appendingPathComponent(name), to: target)))
                progress(.media(done: media.count, total: names.count))
            }
            try document.finish(media: media)
            try file.synchronize()
            mediaCount = media.count
        }
        return Summary(folder: destination, rows: rows, mediaFiles: mediaCount)
    }

    private static func writeTables(
        _ app: Application, into document: DocumentWriter, now: Date, progress: @escaping @Sendable (Step) -> Void
    ) async throws -> [String: Int] {
        try await app.backgroundDatabase.readOnlyTransaction { database in
            let sql = database as! any SQLDatabase
            let migrations = try await sql.raw("SELECT name FROM _fluent_migrations").all().map { try $0.decode(column: "name", as: String.self) }
            try document.begin(exportedAt: now, migrations: migrations.sorted())
            var total = 0
            for table in ExportSchema.tables {
                total += try await ExportRows.count(of: table, on: sql)
            }
            var counts: [String: Int] = [:]
            var done = 0
            progress(.rows(done: 0, total: total))
            for table in ExportSchema.tables {
                try document.beginTable(table.name)
                var count = 0
                try await ExportRows.each(of: table, on: sql) { row in
                    try document.row(row)
                    count += 1
                    done += 1
                    if done % ExportRows.pageSize == 0 { progress(.rows(done: done, total: total)) }
                }
                try document.endTable()
                counts[table.name] = count
            }
            progress(.rows(done: done, total: max(done, total)))
            try document.endTables()
            return counts
        }
    }
}

/// Reads a table's rows in key order, a page at a time, as export cells.
enum ExportRows {
    static let pageSize = 500

    static func each(of table: ExportSchema.Table, on sql: any SQLDatabase, _ body: ([String: ExportValue]) throws -> Void) async throws {
        let columns = table.columnNames.map { SQLIdentifier($0) as any SQLExpression }
        guard table.keyType == .uuid else {
            // Small tables keyed by text (settings): sorted here, as collations differ between databases.
            let rows = try await sql.select().columns(columns).from(table.name).all().map { try cells(of: $0, in: table) }
            for row in rows.sorted(by: { keyText($0, table) < keyText($1, table) }) { try body(row) }
            return
        }
        var after: UUID?
        while true {
            let query = sql.select().columns(columns).from(table.name).orderBy(table.key).limit(pageSize)
            if let after { query.where(SQLIdentifier(table.key), .greaterThan, SQLBind(after)) }
            let page = try await query.all()
            for row in page { try body(try cells(of: row, in: table)) }
            guard page.count == pageSize, let last = page.last else { return }
            after = try last.decode(column: table.key, as: UUID.self)
        }
    }

    static func count(of table: ExportSchema.Table, on sql: any SQLDatabase) async throws -> Int {
        try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "total").from(table.name)
            .first(decoding: SiteBackup.Count.self)?.total ?? 0
    }

    private static func keyText(_ row: [String: ExportValue], _ table: ExportSchema.Table) -> String {
        if case .text(let key)? = row[table.key] { return key }
        return ""
    }

    static func cells(of row: any SQLRow, in table: ExportSchema.Table) throws -> [String: ExportValue] {
        var cells: [String: ExportValue] = [:]
        for column in table.columns {
            let name = column.name
            switch column.type {
            case .uuid: cells[name] = try row.decode(column: name, as: UUID?.self).map { .text($0.uuidString.lowercased()) } ?? .null
            case .text: cells[name] = try row.decode(column: name, as: String?.self).map { .text($0) } ?? .null
            case .integer: cells[name] = try row.decode(column: name, as: Int64?.self).map { .integer($0) } ?? .null
            case .boolean: cells[name] = try row.decode(column: name, as: Bool?.self).map { .boolean($0) } ?? .null
            case .timestamp: cells[name] = try row.decode(column: name, as: Date?.self).map { .text(ExportTimestamp.format($0)) } ?? .null
            }
        }
        return cells
    }
}

/// Writes the export document as it is read, one row to a line, so an archive of any size
/// never sits in memory whole and two exports of one site compare line by line.
final class DocumentWriter: @unchecked Sendable {
    // One task writes at a time: the export's, in order.
    private let output: @Sendable (Data) throws -> Void
    private var buffer = Data()
    private var firstTable = true
    private var firstRow = true
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    init(_ output: @escaping @Sendable (Data) throws -> Void) {
        self.output = output
    }

    func begin(exportedAt: Date, migrations: [String]) throws {
        let header = try encoder.encode(migrations)
        append("{\n\"format\": \"\(ExportSchema.formatName)\",\n\"version\": \(ExportSchema.version),\n")
        append("\"exportedAt\": \"\(ExportTimestamp.format(exportedAt))\",\n\"migrations\": ")
        buffer.append(header)
        append(",\n\"tables\": {")
    }

    func beginTable(_ name: String) throws {
        append(firstTable ? "\n" : ",\n")
        firstTable = false
        firstRow = true
        buffer.append(try encoder.encode(name))
        append(": [")
    }

    func row(_ cells: [String: ExportValue]) throws {
        append(firstRow ? "\n" : ",\n")
        firstRow = false
        buffer.append(try encoder.encode(cells))
        if buffer.count >= 1 << 16 { try flush() }
    }

    func endTable() throws {
        append(firstRow ? "]" : "\n]")
    }

    func endTables() throws {
        append("\n},\n")
    }

    func finish(media: [(String, BackupManifest.File.Digest)]) throws {
        append("\"media\": [")
        for (index, (path, digest)) in media.enumerated() {
            append(index == 0 ? "\n" : ",\n")
            buffer.append(try encoder.encode(SiteImport.MediaFile(path: path, bytes: digest.bytes, sha256: digest.sha256)))
        }
        append(media.isEmpty ? "]\n}\n" : "\n]\n}\n")
        try flush()
    }

    private func append(_ text: String) {
        buffer.append(contentsOf: Array(text.utf8))
    }

    private func flush() throws {
        try output(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
