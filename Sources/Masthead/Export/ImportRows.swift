import Foundation
import SQLKit

/// An export's rows, checked cell by cell against the export schema and turned into values
/// the database takes, before any is written.
struct ImportRows {
    private let tables: [(table: ExportSchema.Table, rows: [[any SQLExpression]])]

    init(document: ExportDocument, postgres: Bool) throws {
        let known = Set(ExportSchema.tables.map(\.name))
        if let unknown = document.tables.keys.sorted().first(where: { !known.contains($0) }) {
            throw ImportError("the export has a table this Masthead does not know: \(unknown)")
        }
        tables = try ExportSchema.tables.map { table in
            let exported = document.tables[table.name] ?? []
            let rows = try exported.enumerated().map { index, row in
                try Self.values(of: row, in: table, postgres: postgres, at: "\(table.name) #\(index + 1)")
            }
            var seen = Set<ExportValue>()
            for row in exported where !seen.insert(row[table.key] ?? .null).inserted {
                throw ImportError("\(table.name) has two rows with the \(table.key) \(row[table.key] ?? .null)")
            }
            return (table, rows)
        }
    }

    var counts: [String: Int] {
        Dictionary(uniqueKeysWithValues: tables.map { ($0.table.name, $0.rows.count) })
    }

    func insert(into sql: any SQLDatabase, progress: @Sendable (SiteImport.Step) -> Void) async throws {
        let total = tables.reduce(0) { $0 + $1.rows.count }
        var done = 0
        progress(.rows(done: 0, total: total))
        for (table, rows) in tables {
            let columns = table.columnNames + table.withheld.map(\.column)
            // Well under both databases' limits on bound values in one statement.
            let perStatement = max(1, 8_000 / columns.count)
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let insert = sql.insert(into: table.name).columns(columns)
                for row in rows[start..<min(start + perStatement, rows.count)] { insert.values(row) }
                do {
                    try await insert.run()
                } catch {
                    throw ImportError("cannot write the rows of \(table.name): \(String(String(reflecting: error).prefix(300)))")
                }
                done += min(perStatement, rows.count - start)
                progress(.rows(done: done, total: total))
            }
        }
    }

    private static func values(of row: [String: ExportValue], in table: ExportSchema.Table, postgres: Bool, at place: String) throws -> [any SQLExpression] {
        if let extra = row.keys.sorted().first(where: { name in !table.columns.contains { $0.name == name } }) {
            throw ImportError("\(place) has a column this Masthead does not know: \(extra)")
        }
        guard let key = row[table.key], key != .null else { throw ImportError("\(place) has no \(table.key)") }
        if table.name == "site_settings", key == .text(SiteSettingsStore.key), case .text(let json)? = row["value"], let problem = SiteSettingsStore.problem(with: json) {
            throw ImportError("\(place): \(problem)")
        }
        let given = try table.columns.map { column in
            guard var value = row[column.name] ?? table.addedLater[column.name] else { throw ImportError("\(place) lacks \(column.name)") }
            if let choices = choices["\(table.name).\(column.name)"], case .text(let text) = value, !choices.contains(text) {
                throw ImportError("\(place) \(column.name) is '\(text)', which is not one of \(choices.sorted().joined(separator: ", "))")
            }
            // Addresses and names go into mail headers: one well-formed address, one line.
            if Self.addresses.contains("\(table.name).\(column.name)"), case .text(let text) = value, EmailAddress.normalized(text) == nil {
                throw ImportError("\(place) \(column.name) is not an email address")
            }
            if Self.headerNames.contains("\(table.name).\(column.name)"), case .text(let text) = value,
               HeaderText.hasControlCharacters(text) {
                throw ImportError("\(place) \(column.name) has line breaks or control characters")
            }
            // Pages print these as they are: whatever the file says, only what Markdown makes goes in.
            if Self.renderedHTML.contains("\(table.name).\(column.name)"), case .text(let html) = value {
                value = .text(BodyHTML.sanitized(html))
            }
            return try Self.value(value, as: column.type, postgres: postgres, at: "\(place) \(column.name)")
        }
        return given + table.withheld.map { $0.value.map { SQLBind($0) as any SQLExpression } ?? SQLLiteral.null }
    }

    private static let renderedHTML: Set<String> = [
        "articles.preview_html", "article_texts.rest_html", "pages.html", "live_stories.summary_html", "live_updates.html",
    ]
    private static let addresses: Set<String> = [
        "members.email", "staff.email", "newsletters.sender_email", "newsletters.reply_to", "newsletter_subscriptions.email", "mail_suppressions.email", "comment_bans.email",
    ]
    private static let headerNames: Set<String> = ["newsletters.sender_name", "newsletters.name", "members.name", "staff.name", "newsletter_subscriptions.name"]

    /// Columns the application reads as one of a few values: anything else would break the
    /// pages that show the row.
    private static let choices: [String: Set<String>] = [
        "articles.kind": Set(ArticleKind.allCases.map(\.rawValue)),
        "articles.status": Set(ArticleStatus.allCases.map(\.rawValue)),
        "articles.visibility": Set(Visibility.allCases.map(\.rawValue)),
        "articles.comments": Set(CommentsChoice.allCases.map(\.rawValue)),
        "comments.status": Set(Comment.Status.allCases.map(\.rawValue)),
        "comments.badge": ["staff", "author"],
        "topics.kind": Set(TopicKind.allCases.map(\.rawValue)),
        "staff.role": Set(StaffRole.allCases.map(\.rawValue)),
    ]

    private static func value(_ value: ExportValue, as type: ExportSchema.ColumnType, postgres: Bool, at place: String) throws -> any SQLExpression {
        switch (type, value) {
        case (_, .null):
            return SQLLiteral.null
        case (.text, .text(let text)):
            return SQLBind(text)
        case (.integer, .integer(let number)):
            return SQLBind(number)
        case (.boolean, .boolean(let flag)):
            return SQLBind(flag)
        case (.uuid, .text(let text)):
            guard let id = UUID(uuidString: text) else { throw ImportError("\(place) is not a UUID: \(text)") }
            return SQLBind(id)
        case (.timestamp, .text(let text)):
            guard let date = ExportTimestamp.parse(text) else { throw ImportError("\(place) is not a timestamp like 2026-12-02T15:45:07.000000Z: \(text)") }
            // PostgreSQL's driver truncates a Date to the microsecond, which can land one
            // below what the export says; the text itself is exact.
            return postgres ? PostgresTimestamp(text: text) : SQLBind(date)
        default:
            throw ImportError("\(place) should be \(type.description)")
        }
    }
}

private struct PostgresTimestamp: SQLExpression {
    let text: String

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write("CAST(")
        SQLBind(text).serialize(to: &serializer)
        serializer.write(" AS TIMESTAMPTZ)")
    }
}

extension ExportSchema.ColumnType: CustomStringConvertible {
    var description: String {
        switch self {
        case .uuid: "a UUID"
        case .text: "text"
        case .integer: "a whole number"
        case .boolean: "true or false"
        case .timestamp: "a timestamp"
        }
    }
}
