import Fluent
import Foundation
import SQLKit
import Testing
@testable import Masthead

/// `masthead export` and `masthead import masthead`, run as an operator moving a site would.
@Suite("Exporting and importing a site", .serialized)
struct ExportImportTests {
    /// A site with a row in every table the export holds: the demo, its readers and owner,
    /// and what the demo leaves empty (settings, corrections, redirects, gifts and the rest).
    static func richSite(on database: TestDatabase) async throws -> TestSite {
        let site = try await TestSite.start(on: database)
        do {
            let db = site.app.db
            _ = try await DemoMembers.loadIfNone(on: db)
            _ = try await StaffAccounts(database: db).createDemoOwner()
            let sql = db as! any SQLDatabase
            let article = try await DemoArticles.first(on: site, edition: "ar", visibility: .paid).requireID()
            let member = try #require(try await Member.query(on: db).sort(\.$email).first()).requireID()
            let price = try #require(try await PlanPrice.query(on: db).first()).requireID()
            let checkout = UUID()
            // A time with a fraction of a second, as the database keeps it.
            let moment = Date(timeIntervalSince1970: 1_764_000_000.123456)
            try await sql.insert(into: "site_settings").columns("key", "value").values(SQLBind("site_name"), SQLBind("المرصد")).run()
            try await sql.insert(into: "corrections").columns("id", "article_id", "note", "staff_name", "created_at")
                .values(SQLBind(UUID()), SQLBind(article), SQLBind("صُحّح اسم المدينة."), SQLBind("Demo Owner"), SQLBind(moment)).run()
            try await sql.insert(into: "slug_redirects").columns("id", "edition", "slug", "article_id")
                .values(SQLBind(UUID()), SQLBind("ar"), SQLBind("الرابط-القديم"), SQLBind(article)).run()
            try await sql.insert(into: "audit_events").columns("id", "staff_email", "action", "subject", "created_at")
                .values(SQLBind(UUID()), SQLBind("owner@demo.masthead.test"), SQLBind("article.publish"), SQLBind("ar/\(article)"), SQLBind(moment)).run()
            try await sql.insert(into: "complimentary_access").columns("id", "member_id", "email_domain", "until", "note", "granted_by", "created_at")
                .values(SQLBind(UUID()), SQLLiteral.null, SQLBind("university.example"), SQLBind(moment.addingTimeInterval(86_400 * 365)), SQLBind("Campus access"), SQLBind("owner@demo.masthead.test"), SQLBind(moment)).run()
            try await sql.insert(into: "checkouts").columns("id", "member_id", "price_id", "return_path", "edition", "provider_session_id", "created_at", "completed_at")
                .values(SQLBind(checkout), SQLBind(member), SQLBind(price), SQLBind("/ar/"), SQLBind("ar"), SQLBind("cs_test_123"), SQLBind(moment), SQLBind(moment)).run()
            try await sql.insert(into: "gifts").columns(
                "id", "checkout_id", "edition", "provider", "giver_email", "giver_name", "recipient_email", "recipient_name", "message",
                "plan_name", "interval", "amount_minor", "currency", "status", "provider_payment_id", "redeem_token_hash", "paid_at",
                "redeemed_by", "redeemed_at", "access_until", "created_at"
            ).values(
                SQLBind(UUID()), SQLBind(checkout), SQLBind("ar"), SQLBind("stripe"), SQLBind("giver@example.com"), SQLBind("Layla"),
                SQLBind("friend@example.com"), SQLBind("Omar"), SQLBind("كل عام وأنت بخير"), SQLBind("Yearly"), SQLBind("year"),
                SQLBind(10_000), SQLBind("USD"), SQLBind("redeemed"), SQLBind("pi_123"), SQLLiteral.null, SQLBind(moment),
                SQLBind(member), SQLBind(moment), SQLBind(moment.addingTimeInterval(86_400 * 365)), SQLBind(moment)
            ).run()
            try await sql.insert(into: "newsletter_sends").columns(
                "id", "subject", "intro", "article_ids", "newsletter_ids", "status", "scheduled_at", "rate_per_second", "recipients",
                "created_by", "created_at", "queued_at", "finished_at"
            ).values(
                SQLBind(UUID()), SQLBind("The week"), SQLBind(""), SQLBind("[\"\(article.uuidString)\"]"), SQLBind("[\"\(UUID().uuidString)\"]"), SQLBind("sent"),
                SQLBind(moment), SQLBind(10), SQLBind(60), SQLBind("owner@demo.masthead.test"), SQLBind(moment), SQLBind(moment), SQLBind(moment)
            ).run()
            try await sql.insert(into: "legacy_paths").columns("id", "path", "article_id")
                .values(SQLBind(UUID()), SQLBind("/2019/03/12/الرابط-القديم"), SQLBind(article)).run()
            let page = UUID()
            try await sql.insert(into: "pages").columns("id", "edition", "slug", "title", "markdown", "html", "published", "created_at", "updated_at")
                .values(SQLBind(page), SQLBind("ar"), SQLBind("ethics"), SQLBind("ميثاقنا"), SQLBind("نحن **غرفة أخبار**."), SQLBind("<p>نحن <strong>غرفة أخبار</strong>.</p>"),
                        SQLBind(true), SQLBind(moment), SQLBind(moment)).run()
            try await sql.insert(into: "legacy_page_paths").columns("id", "path", "page_id").values(SQLBind(UUID()), SQLBind("/about-us"), SQLBind(page)).run()
            try await sql.insert(into: "imported_items").columns("id", "source", "source_key", "target_id", "created_at")
                .values(SQLBind(UUID()), SQLBind("wordpress:https://old.example"), SQLBind("post:12"), SQLBind(article), SQLBind(moment)).run()
            try await sql.insert(into: "mail_suppressions").columns("id", "email", "reason", "detail", "created_at")
                .values(SQLBind(UUID()), SQLBind("bounced@example.com"), SQLBind("bounce"), SQLBind("550 no such user"), SQLBind(moment)).run()
            let comment = UUID(), reply = UUID()
            for (id, parent, body) in [(comment, nil as UUID?, "Who holds the crossing?"), (reply, comment, "The army.")] {
                try await sql.insert(into: "comments")
                    .columns("id", "article_id", "parent_id", "member_id", "author_name", "body", "status", "badge", "reports", "created_at", "edited_at")
                    .values(SQLBind(id), SQLBind(article), SQLBind(parent), SQLBind(member), SQLBind("Reader"), SQLBind(body), SQLBind("visible"),
                            SQLBind(parent == nil ? nil : "staff" as String?), SQLBind(1), SQLBind(moment), SQLBind(nil as Date?)).run()
            }
            try await sql.insert(into: "comment_reports").columns("id", "comment_id", "member_id", "created_at")
                .values(SQLBind(UUID()), SQLBind(comment), SQLBind(member), SQLBind(moment)).run()
            try await sql.insert(into: "comment_bans").columns("email", "banned_by", "created_at")
                .values(SQLBind("barred@example.com"), SQLBind("editor@newsroom.example"), SQLBind(moment)).run()
            return site
        } catch {
            await site.stop()
            throw error
        }
    }

    /// The document without the moment it was written, which is all two exports of one site differ in.
    static func content(of folder: String) throws -> String {
        let text = try String(contentsOfFile: folder + "/masthead-export.json", encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("\"exportedAt\"") }.joined(separator: "\n")
    }

    static func tables(of folder: String) throws -> [String: [[String: Any]]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/masthead-export.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(document["tables"] as? [String: [[String: Any]]])
    }

    @Test("export, import into an empty database and export again gives the same document, ids and timestamps included", arguments: TestDatabase.available)
    func roundTrip(database: TestDatabase) async throws {
        try await Self.inTurn(database == .postgres) { sites in
            guard let target = try await BackupTests.emptyTarget(like: database) else { return }
            let site = try await Self.richSite(on: database)
            sites.keep(site)
            let first = BackupTests.newFolder(), second = BackupTests.newFolder()
            let exported = try await MastheadProcess.run(["export", first], environment: BackupTests.environment(site.settings))
            #expect(exported.status == 0, "\(exported.standardError)")
            let articles = try await Article.query(on: site.app.db).count()
            #expect(exported.standardOutput.contains("Exported to \(first): \(articles) articles"))
            let tables = try Self.tables(of: first)
            for table in ExportSchema.tables {
                #expect(tables[table.name]?.isEmpty == false, "the test site has no \(table.name) to carry across")
            }

            let imported = try await MastheadProcess.run(["import", "masthead", first], environment: BackupTests.environment(target))
            #expect(imported.status == 0, "\(imported.standardError)")
            #expect(imported.standardOutput.contains("Imported \(articles) articles"))
            let again = try await MastheadProcess.run(["export", second], environment: BackupTests.environment(target))
            #expect(again.status == 0, "\(again.standardError)")
            #expect(try Self.content(of: second) == Self.content(of: first))
            #expect(BackupFolder.files(under: target.mediaDirectory) == BackupFolder.files(under: site.settings.mediaDirectory))

            let rerun = try await MastheadProcess.run(["import", "masthead", first], environment: BackupTests.environment(target))
            #expect(rerun.status == 0, "\(rerun.standardError)")
            #expect(rerun.standardOutput.contains("Nothing to import") && rerun.standardOutput.contains("Created nothing."))

            let moved = try await TestSite.open(target)
            sites.keep(moved)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let original = try await site.get("/articles/\(article.slug)")
            let copy = try await moved.get("/articles/\(article.slug)")
            #expect(copy.status == .ok)
            #expect(HTML.text(of: copy.body) == HTML.text(of: original.body))
            let (found, _) = try await SearchTests.search(moved, "/search", article.title)
            #expect(found.contains("/articles/\(article.slug)"))
            // Staff come across without their passwords: each sets one through a new invitation.
            let owner = try #require(try await Staff.query(on: moved.app.db).first())
            #expect(owner.passwordHash.isEmpty && owner.totpSecret == nil)
        }
    }

    @Test("an export from SQLite imports into PostgreSQL and exports the same document")
    func sqliteToPostgres() async throws {
        try await Self.inTurn(true) { sites in
            guard let target = try await BackupTests.emptyTarget(like: .postgres) else { return }
            let site = try await Self.richSite(on: .sqlite)
            sites.keep(site)
            let first = BackupTests.newFolder(), second = BackupTests.newFolder()
            #expect(try await MastheadProcess.run(["export", first], environment: BackupTests.environment(site.settings)).status == 0)
            let imported = try await MastheadProcess.run(["import", "masthead", first], environment: BackupTests.environment(target))
            #expect(imported.status == 0, "\(imported.standardError)")
            #expect(try await MastheadProcess.run(["export", second], environment: BackupTests.environment(target)).status == 0)
            #expect(try Self.content(of: second) == Self.content(of: first))
        }
    }

    @Test("a damaged or foreign export is refused with one line and writes nothing", arguments: TestDatabase.available)
    func damagedExportWritesNothing(database: TestDatabase) async throws {
        try await Self.inTurn(database == .postgres) { sites in
            guard let target = try await BackupTests.emptyTarget(like: database) else { return }
            let (site, good) = try await Self.exportedDemo(keptIn: sites)
            let document = try String(contentsOfFile: good + "/masthead-export.json", encoding: .utf8)
            let firstArticle = try #require(document.split(separator: "\n").first { $0.contains("\"preview_html\"") && $0.contains("\"published_at\":\"") }.map(String.init))
            let row = firstArticle.hasSuffix(",") ? String(firstArticle.dropLast()) : firstArticle
            let media = try #require(BackupFolder.files(under: good + "/media").first)

            let damages: [(name: String, change: (String) throws -> Void, reason: String)] = [
                ("cut short", { try String(document.prefix(document.count / 2)).write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "cannot be read as JSON"),
                ("another format", { try #"{"format": "ghost", "version": 2}"#.write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "is not a Masthead export (its format is 'ghost')"),
                ("a later version", { try document.replacingOccurrences(of: "\"version\": 2,", with: "\"version\": 3,").write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "is a version 3 export; this Masthead reads version 2"),
                ("an article without its title", { try document.replacingOccurrences(of: firstArticle, with: firstArticle.replacingOccurrences(of: #""title":"#, with: #""titel":"#)).write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "has a column this Masthead does not know: titel"),
                ("a date that is not one", { try document.replacingOccurrences(of: firstArticle, with: firstArticle.replacingOccurrences(of: #""published_at":""#, with: #""published_at":"last "#)).write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "published_at is not a timestamp"),
                ("an article twice", { try document.replacingOccurrences(of: row, with: row + ",\n" + row).write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "articles has two rows with the id"),
                ("a navigation link that runs script", { try document.replacingOccurrences(of: #""site_settings": []"#, with: #""site_settings": [{"key":"site","value":"{\"navigation\":[{\"label\":\"Go\",\"url\":\"javascript:alert(1)\"}]}"}]"#).write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
             "Write each link as: Label | /path"),
            ("a damaged image", { try Data("not the image".utf8).write(to: URL(fileURLWithPath: $0 + "/media/" + media)) },
                 "media/\(media) does not match its checksum"),
                ("a script among the media", { folder in
                    try Data("alert(1)".utf8).write(to: URL(fileURLWithPath: folder + "/media/evil.js"))
                    try document.replacingOccurrences(of: "\"path\":\"\(media)\"", with: "\"path\":\"evil.js\"").write(toFile: folder + "/masthead-export.json", atomically: true, encoding: .utf8)
                 }, "media/evil.js is not an image"),
                ("an image that is a link to another file", { folder in
                    try FileManager.default.removeItem(atPath: folder + "/media/" + media)
                    try FileManager.default.createSymbolicLink(atPath: folder + "/media/" + media, withDestinationPath: site.settings.dataDirectory + "/secret")
                 }, "is a link"),
                ("an image outside the folder", { try document.replacingOccurrences(of: "\"path\":\"\(media)\"", with: "\"path\":\"../../\(media)\"").write(toFile: $0 + "/masthead-export.json", atomically: true, encoding: .utf8) },
                 "outside its media folder"),
            ]
            for damage in damages {
                let copy = BackupFolder.newCopy(of: good)
                try damage.change(copy)
                let result = try await MastheadProcess.run(["import", "masthead", copy], environment: BackupTests.environment(target))
                #expect(result.status == 1, "\(damage.name)")
                #expect(result.standardError.hasPrefix("masthead: ") && result.standardError.contains(damage.reason), "\(damage.name): \(result.standardError)")
                #expect(result.standardError.split(separator: "\n").count == 1, "\(damage.name)")
            }
            let check = try await TestSite.open(target)
            sites.keep(check)
            #expect(try await Article.query(on: check.app.db).count() == 0)
            #expect(BackupFolder.files(under: target.mediaDirectory).isEmpty)
        }
    }

    @Test("markup an export smuggles into an article's HTML is shown as text, never run")
    func importedHTMLIsSanitized() async throws {
        try await Self.inTurn(false) { sites in
            guard let target = try await BackupTests.emptyTarget(like: .sqlite) else { return }
            let (site, folder) = try await Self.exportedDemo(keptIn: sites)
            let article = try await DemoArticles.first(on: site, edition: "en", visibility: .public)
            let document = try String(contentsOfFile: folder + "/masthead-export.json", encoding: .utf8)
            let line = try #require(document.split(separator: "\n").first { $0.contains("\"slug\":\"\(article.slug)\"") && $0.contains("\"preview_html\":\"") }.map(String.init))
            let tampered = line.replacingOccurrences(of: "\"preview_html\":\"", with: "\"preview_html\":\"<script src=\\\"/media/x.js\\\"></script><img src=x onerror=alert(1)>")
            try document.replacingOccurrences(of: line, with: tampered).write(toFile: folder + "/masthead-export.json", atomically: true, encoding: .utf8)

            let result = try await MastheadProcess.run(["import", "masthead", folder], environment: BackupTests.environment(target))
            #expect(result.status == 0, "\(result.standardError)")
            let moved = try await TestSite.open(target)
            sites.keep(moved)
            let page = try await moved.get("/articles/\(article.slug)")
            #expect(page.status == .ok)
            #expect(!page.body.contains("<script src=\"/media/x.js\"") && !page.body.contains("onerror"))
        }
    }

    @Test("an import killed part-way leaves the database as it was, and a rerun imports everything", arguments: TestDatabase.available)
    func killedImportResumes(database: TestDatabase) async throws {
        try await Self.inTurn(database == .postgres) { sites in
            guard let target = try await BackupTests.emptyTarget(like: database) else { return }
            let (site, folder) = try await Self.exportedDemo(keptIn: sites)
            let articles = try await Article.query(on: site.app.db).count()

            let running = try MastheadProcess.start(["import", "masthead", folder], environment: BackupTests.environment(target))
            _ = try await running.waitForLine(containing: " rows")
            kill(running.process.processIdentifier, SIGKILL)
            await running.process.exited()
            let afterKill = try await TestSite.open(target)
            let kept = try await Article.query(on: afterKill.app.db).count()
            await afterKill.stop()
            #expect(kept == 0 || kept == articles)

            let rerun = try await MastheadProcess.run(["import", "masthead", folder], environment: BackupTests.environment(target))
            #expect(rerun.status == 0, "\(rerun.standardError)")
            let done = try await TestSite.open(target)
            sites.keep(done)
            #expect(try await Article.query(on: done.app.db).count() == articles)
            #expect(try await Article.query(on: done.app.db).with(\.$text).all().allSatisfy { $0.text != nil })
        }
    }

    @Test("a dry run reports what an import would bring and writes nothing")
    func dryRun() async throws {
        try await Self.inTurn(false) { sites in
            guard let target = try await BackupTests.emptyTarget(like: .sqlite) else { return }
            let (site, folder) = try await Self.exportedDemo(keptIn: sites)
            let result = try await MastheadProcess.run(["import", "masthead", folder, "--dry-run"], environment: BackupTests.environment(target))
            #expect(result.status == 0, "\(result.standardError)")
            let articles = try await Article.query(on: site.app.db).count()
            #expect(result.standardOutput.contains("Dry run: would import \(articles) articles") && result.standardOutput.contains("Wrote nothing."))
            let check = try await TestSite.open(target)
            sites.keep(check)
            #expect(try await Article.query(on: check.app.db).count() == 0)
        }
    }

    @Test("an import into a database that holds another site is refused")
    func refusesOccupiedDatabase() async throws {
        try await Self.inTurn(false) { sites in
            let source = try await TestSite.start(on: .sqlite)
            sites.keep(source)
            let other = try await TestSite.start(on: .sqlite, withDemo: false)
            sites.keep(other)
            _ = try await StaffAccounts(database: other.app.db).createDemoOwner()
            let folder = BackupTests.newFolder()
            #expect(try await MastheadProcess.run(["export", folder], environment: BackupTests.environment(source.settings)).status == 0)
            let result = try await MastheadProcess.run(["import", "masthead", folder], environment: BackupTests.environment(other.settings))
            #expect(result.status == 1)
            #expect(result.standardError.contains("the database already holds a site") && result.standardError.contains("import into an empty database"))
        }
    }

    @Test("the export names every column of every table it holds, and each table it leaves out has a reason", arguments: TestDatabase.available)
    func exportCoversTheSchema(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            let sql = site.app.db as! any SQLDatabase
            let columns = try await Self.columnsByTable(sql)
            for (table, names) in columns where !ExportSchema.isSearchIndex(table) {
                if let exported = ExportSchema.tables.first(where: { $0.name == table }) {
                    #expect(Set(exported.columnNames + exported.withheld.map(\.column)) == names, "\(table)")
                } else {
                    #expect(ExportSchema.leftOut[table] != nil, "\(table) is neither exported nor left out with a reason")
                }
            }
            for table in ExportSchema.tables {
                #expect(columns[table.name] != nil, "\(table.name) is not a table")
            }
        }
    }

    @Test("docs/export-format.md describes every table and column the export holds, and every table it leaves out")
    func formatIsDocumented() throws {
        let documentation = try String(contentsOf: TestSettings.repositoryRoot.appendingPathComponent("docs/export-format.md"), encoding: .utf8)
        for table in ExportSchema.tables {
            let section = try #require(documentation.components(separatedBy: "### `\(table.name)`").dropFirst().first, "\(table.name)")
            let described = section.components(separatedBy: "### ")[0]
            for column in table.columns {
                #expect(described.contains("| `\(column.name)` | \(column.type.rawValue) |"), "\(table.name).\(column.name)")
            }
        }
        for table in ExportSchema.leftOut.keys {
            #expect(documentation.contains("| `\(table)` |"), "\(table)")
        }
    }

    /// A demo site on SQLite and its export, in a new folder.
    static func exportedDemo(keptIn sites: Sites) async throws -> (TestSite, String) {
        let site = try await TestSite.start(on: .sqlite)
        sites.keep(site)
        let folder = BackupTests.newFolder()
        let exported = try await MastheadProcess.run(["export", folder], environment: BackupTests.environment(site.settings))
        #expect(exported.status == 0, "\(exported.standardError)")
        return (site, folder)
    }

    /// Sites stopped when a test's turn ends.
    final class Sites: @unchecked Sendable {
        var running: [TestSite] = []
        func keep(_ site: TestSite) { running.append(site) }
    }

    /// Tests that use a PostgreSQL database take the shared turn for their whole length: the
    /// test database and the one restores go into are shared with the other suites.
    static func inTurn(_ postgres: Bool, _ body: (Sites) async throws -> Void) async throws {
        if postgres { await SharedDatabaseTurn.shared.acquire() }
        let sites = Sites()
        do {
            try await body(sites)
        } catch {
            for site in sites.running { await site.stop() }
            if postgres { await SharedDatabaseTurn.shared.release() }
            throw error
        }
        for site in sites.running { await site.stop() }
        if postgres { await SharedDatabaseTurn.shared.release() }
    }

    static func columnsByTable(_ sql: any SQLDatabase) async throws -> [String: Set<String>] {
        struct Column: Decodable {
            let tableName: String
            let columnName: String
        }
        let query: SQLQueryString = sql.dialect.name == "postgresql"
            ? "SELECT table_name AS \"tableName\", column_name AS \"columnName\" FROM information_schema.columns WHERE table_schema = 'public'"
            : "SELECT m.name AS tableName, p.name AS columnName FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
        let rows = try await sql.raw(query).all(decoding: Column.self)
        return Dictionary(grouping: rows, by: \.tableName).mapValues { Set($0.map(\.columnName)) }
    }
}

extension BackupFolder {
    /// A copy of a folder for a test to damage.
    static func newCopy(of folder: String) -> String {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-copy-\(UUID().uuidString)").path
        try! FileManager.default.copyItem(atPath: folder, toPath: copy)
        return copy
    }
}
