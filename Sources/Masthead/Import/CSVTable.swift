import Foundation

/// A CSV file as RFC 4180 writes one (quoted fields with doubled quotes and line breaks inside,
/// CRLF or LF line ends, a UTF-8 byte-order mark tolerated), read by its header row.
struct CSVTable {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Column names as written, lowercased, with spaces as underscores.
    let columns: [String]
    let rows: [[String: String]]

    /// Blank lines are skipped; more than `maxRows` rows are refused, before they are all held.
    init(_ data: Data, maxRows: Int = 1_000_000) throws(Malformed) {
        guard var text = String(data: data, encoding: .utf8) else { throw Malformed(description: "is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let records = try Self.records(text, maxRows: maxRows)
        guard let header = records.first, !header.isEmpty else { throw Malformed(description: "is empty") }
        columns = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "_") }
        var rows: [[String: String]] = []
        for (index, record) in records.dropFirst().enumerated() {
            guard record.count == columns.count else {
                throw Malformed(description: "has \(record.count) fields in row \(index + 1) where its header has \(columns.count)")
            }
            rows.append(Dictionary(zip(columns, record)) { first, _ in first })
        }
        self.rows = rows
    }

    private static func records(_ text: String, maxRows: Int) throws(Malformed) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = scalars.next()
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true
            case ",":
                record.append(field)
                field = ""
                afterQuote = false
            case "\r", "\n":
                if scalar == "\r", pending == "\n" { pending = scalars.next() }
                record.append(field)
                if record != [""] {
                    guard records.count <= maxRows else { throw Malformed(description: "has more than \(maxRows) rows") }
                    records.append(record)
                }
                record = []
                field = ""
                afterQuote = false
            default:
                guard !afterQuote else { throw Malformed(description: "has text after a closing quote on line \(records.count + 1)") }
                field.unicodeScalars.append(scalar)
            }
        }
        guard !quoted else { throw Malformed(description: "ends inside a quoted field") }
        if !field.isEmpty || !record.isEmpty || afterQuote {
            record.append(field)
            guard records.count <= maxRows else { throw Malformed(description: "has more than \(maxRows) rows") }
            records.append(record)
        }
        return records
    }
}
