import Foundation
import Logging
import NIOConcurrencyHelpers

/// How `masthead` writes its logs: `text` (swift-log's lines, for a person at a terminal) or
/// `json` (`MASTHEAD_LOG_FORMAT=json`: one object per line, for journald, Loki or Elasticsearch
/// to index by field, the request id among them).
public enum LogFormat: String, Sendable {
    case text, json

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LogFormat {
        let text = environment["MASTHEAD_LOG_FORMAT"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "text"
        guard let format = LogFormat(rawValue: text) else {
            throw SettingsError("MASTHEAD_LOG_FORMAT must be text or json, got '\(text)'")
        }
        return format
    }

    /// Must run before any logger is made, once per process.
    public func bootstrap() {
        switch self {
        case .text: LoggingSystem.bootstrap(StreamLogHandler.standardError)
        case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0, output: .standardError) }
        }
    }
}

/// One JSON object per line on standard error: `time`, `level`, `label`, `message`, then the
/// metadata's fields (a field that would shadow one of those four is written as `meta.<name>`).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let output: JSONLogOutput

    init(label: String, output: JSONLogOutput) {
        self.label = label
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        output.write(Self.line(time: Date(), level: event.level, label: label, message: event.message.description, fields: fields))
    }

    static func line(time: Date, level: Logger.Level, label: String, message: String, fields: Logger.Metadata) -> String {
        var line = "{\"time\":\(quoted(timestamp(time))),\"level\":\(quoted(level.rawValue)),\"label\":\(quoted(label)),\"message\":\(quoted(message))"
        for key in fields.keys.sorted() {
            let name = ["time", "level", "label", "message"].contains(key) ? "meta.\(key)" : key
            line += ",\(quoted(name)):\(json(fields[key]!))"
        }
        return line + "}\n"
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return quoted(text)
        case .stringConvertible(let convertible): return quoted(convertible.description)
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let entries): return "{" + entries.keys.sorted().map { "\(quoted($0)):\(json(entries[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// RFC 8259 §7: quote, backslash and control characters escaped; the rest as it is. A value
    /// is cut at 8,000 characters, so that no line outgrows what journald keeps whole (48 KiB).
    static func quoted(_ text: String) -> String {
        let text = text.count > 8_000 ? text.prefix(8_000) + "…" : text
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// RFC 3339 in UTC with milliseconds: `2026-12-03T15:04:05.123Z`.
    static func timestamp(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        var seconds = time_t(since1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = min(999, Int((since1970 - Double(seconds)) * 1000))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds
        )
    }
}

/// Where JSON lines go: whole lines, one writer at a time, so lines from two event loops never interleave.
final class JSONLogOutput: Sendable {
    static let standardError = JSONLogOutput(handle: .standardError)

    private let handle: FileHandle
    private let lock = NIOLock()

    init(handle: FileHandle) {
        self.handle = handle
    }

    func write(_ line: String) {
        lock.withLock { handle.write(Data(line.utf8)) }
    }
}
