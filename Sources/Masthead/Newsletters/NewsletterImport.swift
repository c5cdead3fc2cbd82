import Fluent
import Foundation
import SQLKit
import Vapor

/// Confirmed subscribers brought from another platform: a CSV of addresses and names, checked
/// whole before anything is written (every bad row named by its line), then added in one
/// transaction, so an import is all there or not there at all. An address that unsubscribed
/// here stays unsubscribed; one waiting to confirm is confirmed.
public enum NewsletterImport {
    public struct Outcome: Sendable {
        public let added: Int
        public let confirmed: Int
        public let alreadySubscribed: Int
        public let keptUnsubscribed: Int
    }

    /// Rows inserted per statement: well under both databases' limits on bound values.
    static let chunk = 500

    public static func run(app: Application, newsletter slug: String, csv text: String, progress: @escaping @Sendable (Int, Int) -> Void) async throws -> Outcome {
        guard let list = try await Newsletter.query(on: app.db).filter(\.$slug == slug).first() else {
            throw NewsletterOperations.Failure(description: "no newsletter '\(slug)' (masthead newsletter list shows them)")
        }
        let people = try subscribers(in: text)
        let listID = try list.requireID()
        let now = Date()
        return try await app.db.writeTransaction { db in
            let existing = try await NewsletterSubscription.query(on: db).filter(\.$newsletter.$id == listID).all()
            let statuses = Dictionary(existing.map { ($0.email, $0.status) }, uniquingKeysWith: { first, _ in first })
            let new = people.filter { statuses[$0.email] == nil }
            let pending = people.filter { statuses[$0.email] == .pending }.map(\.email)
            let sql = db as! any SQLDatabase
            var done = 0
            progress(0, people.count)
            for start in stride(from: 0, to: new.count, by: chunk) {
                let rows = new[start..<min(start + chunk, new.count)].map { person -> SQLQueryString in
                    "(\(bind: UUID()), \(bind: listID), \(bind: person.email), \(bind: person.name), \(bind: NewsletterSubscription.Status.active.rawValue), \(bind: NewsletterSubscription.Source.import_.rawValue), \(bind: now), \(bind: now))"
                }
                try await sql.raw("""
                    INSERT INTO newsletter_subscriptions (id, newsletter_id, email, name, status, source, created_at, confirmed_at)
                    VALUES \(rows.joined(separator: ", ")) ON CONFLICT (newsletter_id, email) DO NOTHING
                    """).run()
                done += rows.count
                progress(done, people.count)
            }
            for start in stride(from: 0, to: pending.count, by: chunk) {
                let emails = Array(pending[start..<min(start + chunk, pending.count)])
                try await sql.raw("""
                    UPDATE newsletter_subscriptions SET status = \(bind: NewsletterSubscription.Status.active.rawValue), confirmed_at = \(bind: now), confirm_token_hash = NULL
                    WHERE newsletter_id = \(bind: listID) AND status = \(bind: NewsletterSubscription.Status.pending.rawValue) AND email IN (\(binds: emails))
                    """).run()
            }
            progress(people.count, people.count)
            return Outcome(
                added: new.count, confirmed: pending.count,
                alreadySubscribed: people.filter { statuses[$0.email] == .active }.count,
                keptUnsubscribed: people.filter { statuses[$0.email] == .unsubscribed }.count
            )
        }
    }

    struct Person: Sendable {
        let email: String
        let name: String
    }

    /// The file's people, each address once; or every bad row, by line, and nothing.
    static func subscribers(in text: String) throws -> [Person] {
        let rows: [CSVRows.Row]
        do {
            rows = try CSVRows.parse(text)
        } catch let error as CSVRows.Malformed {
            throw NewsletterOperations.Failure(description: error.description)
        }
        guard let first = rows.first else { throw NewsletterOperations.Failure(description: "the file has no rows") }
        let header = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let hasHeader = header.contains { ["email", "e-mail", "email address", "address"].contains($0) }
        let emailColumn = hasHeader ? header.firstIndex { ["email", "e-mail", "email address", "address"].contains($0) } ?? 0 : 0
        let nameColumn = hasHeader ? header.firstIndex { ["name", "full name", "full_name"].contains($0) } : 1
        var people: [Person] = []
        var seen = Set<String>()
        var problems: [String] = []
        for row in rows.dropFirst(hasHeader ? 1 : 0) {
            let rawEmail = row.fields.indices.contains(emailColumn) ? row.fields[emailColumn] : ""
            guard let email = EmailAddress.normalized(rawEmail) else {
                problems.append("line \(row.line): \(rawEmail.isEmpty ? "no email address" : "'\(rawEmail.prefix(80))' is not an email address")")
                continue
            }
            let name = nameColumn.flatMap { row.fields.indices.contains($0) ? GiftRecipient.plain(row.fields[$0], keepingLines: false) : nil } ?? ""
            guard name.unicodeScalars.count <= 100 else {
                problems.append("line \(row.line): the name is longer than 100 characters")
                continue
            }
            if seen.insert(email).inserted { people.append(Person(email: email, name: name)) }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(20).joined(separator: "; ")
            throw NewsletterOperations.Failure(description: "nothing imported: \(problems.count) bad \(problems.count == 1 ? "row" : "rows"): \(shown)\(problems.count > 20 ? "; …" : "")")
        }
        return people
    }
}
