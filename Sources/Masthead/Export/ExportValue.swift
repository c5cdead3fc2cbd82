import Foundation

/// One cell of an exported row, as JSON has it. UUIDs and timestamps travel as text: UUIDs in
/// lower case, timestamps in UTC to the microsecond (what PostgreSQL keeps, and what SQLite's
/// driver rounds to), so a row reads back into either database unchanged.
enum ExportValue: Codable, Hashable, Sendable, CustomStringConvertible {
    case null
    case text(String)
    case integer(Int64)
    case boolean(Bool)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .boolean(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let string = try? container.decode(String.self) {
            self = .text(string)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected text, a whole number, true, false or null")
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .text(let string): string
        case .integer(let number): String(number)
        case .boolean(let flag): String(flag)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .text(let string): try container.encode(string)
        case .integer(let number): try container.encode(number)
        case .boolean(let flag): try container.encode(flag)
        }
    }
}

enum ExportTimestamp {
    /// `2026-12-02T15:45:07.123456Z`.
    static func format(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = Int(floor(micros / 1_000_000))
        let fraction = Int(micros - Double(seconds) * 1_000_000)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction
        )
    }

    /// Reads what `format` writes, and nothing looser: an export is machine-written.
    static func parse(_ text: String) -> Date? {
        let fields = text.split(whereSeparator: { "-T:.Z".contains($0) }).map(String.init)
        guard text.utf8.count == 27, text.hasSuffix("Z"), fields.count == 7,
              fields[6].count == 6, let values = Optional(fields.compactMap { Int($0) }), values.count == 7
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(values[0] - 1900)
        parts.tm_mon = Int32(values[1] - 1)
        parts.tm_mday = Int32(values[2])
        parts.tm_hour = Int32(values[3])
        parts.tm_min = Int32(values[4])
        parts.tm_sec = Int32(values[5])
        let seconds = timegm(&parts)
        guard (1...12).contains(values[1]), (1...31).contains(values[2]), values[3] < 24, values[4] < 60, values[5] < 61 else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(values[6]) / 1_000_000)
    }
}
