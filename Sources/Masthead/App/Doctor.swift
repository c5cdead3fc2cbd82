import Crypto
import Fluent
import Foundation
import SQLKit
import Vapor

/// `masthead doctor`: checks a deployment as it is configured on this machine, and says what
/// is wrong in one line each. It reads and connects; it changes nothing (it does not migrate).
public struct Doctor: Sendable {
    public struct Finding: Sendable, Equatable {
        public enum Verdict: String, Sendable {
            case ok
            /// Works, but probably not what a live site wants.
            case warning
            /// Readers or staff will meet a failure.
            case problem
        }

        public let verdict: Verdict
        public let subject: String
        public let detail: String

        static func ok(_ subject: String, _ detail: String) -> Finding { Finding(verdict: .ok, subject: subject, detail: detail) }
        static func warning(_ subject: String, _ detail: String) -> Finding { Finding(verdict: .warning, subject: subject, detail: detail) }
        static func problem(_ subject: String, _ detail: String) -> Finding { Finding(verdict: .problem, subject: subject, detail: detail) }
    }

    let settings: Settings
    let environment: [String: String]
    /// Clocks further apart than this make signed links and sessions expire early or late.
    static let clockTolerance: TimeInterval = 2

    public init(settings: Settings, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.environment = environment
    }

    public func examine() async -> [Finding] {
        var findings = [folders(), theme(), publicURL(), secret(), billing()]
        findings.append(await mail())
        findings += await database()
        return findings
    }

    func folders() -> Finding {
        for (name, path) in [("data folder", settings.dataDirectory), ("media folder", settings.mediaDirectory)] {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                guard isFolder.boolValue, FileManager.default.isWritableFile(atPath: path) else {
                    return .problem("folders", "the \(name) \(path) is not a writable folder for this user")
                }
            } else if !Self.canCreate(path) {
                return .problem("folders", "the \(name) \(path) does not exist and cannot be created here")
            }
        }
        return .ok("folders", "data in \(settings.dataDirectory), media in \(settings.mediaDirectory)")
    }

    /// Whether the nearest folder above `path` that exists lets this user create it.
    private static func canCreate(_ path: String) -> Bool {
        var ancestor = (path as NSString).deletingLastPathComponent
        while !ancestor.isEmpty, ancestor != "/", !FileManager.default.fileExists(atPath: ancestor) {
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        return FileManager.default.isWritableFile(atPath: ancestor.isEmpty ? "." : ancestor)
    }

    func theme() -> Finding {
        do {
            let theme = try Theme.load(directory: settings.themeDirectory, editionCodes: settings.editionCodes)
            return .ok("theme", "\(settings.themeDirectory), editions \(theme.editions.all.map(\.code).joined(separator: ", "))")
        } catch {
            return .problem("theme", "\(error)")
        }
    }

    func publicURL() -> Finding {
        guard environment["MASTHEAD_PUBLIC_URL"] != nil else {
            return .warning("public URL", "MASTHEAD_PUBLIC_URL is not set: links in mail and feeds name \(settings.publicURL)")
        }
        let url = URL(string: settings.publicURL)
        let local = ["127.0.0.1", "localhost", "::1"].contains(url?.host ?? "")
        guard url?.scheme == "https" || local else {
            return .problem("public URL", "\(settings.publicURL) is not https: sessions and sign-in links would travel unencrypted")
        }
        return .ok("public URL", settings.publicURL)
    }

    func secret() -> Finding {
        if settings.secret == nil, case .postgres = settings.database {
            return .problem("secret", "MASTHEAD_SECRET is not set: each instance would sign with a key of its own, and sign-ins and forms would fail across instances")
        }
        let found: SymmetricKey?
        do {
            found = try SiteSecret.read(settings)
        } catch {
            return .problem("secret", "\(error)")
        }
        if let secret = settings.secret { return .ok("secret", "MASTHEAD_SECRET is set (\(secret.utf8.count) characters)") }
        guard found != nil else {
            if FileManager.default.fileExists(atPath: SiteSecret.file(settings)) {
                return .problem("secret", "cannot read the signing key \(SiteSecret.file(settings)) (is it this user's, and whole?)")
            }
            return .ok("secret", "none yet: the first start makes one in \(SiteSecret.file(settings)) (set MASTHEAD_SECRET before adding a second instance)")
        }
        return .ok("secret", "kept in \(SiteSecret.file(settings)) (set MASTHEAD_SECRET before adding a second instance)")
    }

    func billing() -> Finding {
        guard let stripe = settings.billing.stripe else {
            if settings.billing.testMode {
                return .warning("billing", "test mode: readers can \"pay\" without paying; set the Stripe keys for a live site")
            }
            return .warning("billing", "no payment provider: readers cannot subscribe (set MASTHEAD_STRIPE_SECRET_KEY and MASTHEAD_STRIPE_WEBHOOK_SECRET)")
        }
        let keyPrefixes = ["sk_live_", "sk_test_", "rk_live_", "rk_test_"]
        guard keyPrefixes.contains(where: stripe.secretKey.hasPrefix), stripe.secretKey.count > 20 else {
            return .problem("billing", "MASTHEAD_STRIPE_SECRET_KEY does not look like a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_…)")
        }
        guard stripe.webhookSecret.hasPrefix("whsec_"), stripe.webhookSecret.count > 20 else {
            return .problem("billing", "MASTHEAD_STRIPE_WEBHOOK_SECRET does not look like a webhook signing secret (whsec_…)")
        }
        let live = stripe.secretKey.contains("_live_")
        let https = URL(string: settings.publicURL)?.scheme == "https"
        if live, !https {
            return .problem("billing", "a live Stripe key with a public URL that is not https: Stripe will not send webhooks to it")
        }
        if !live, https {
            return .warning("billing", "a Stripe test key on a public site: no payment is real")
        }
        return .ok("billing", "Stripe, \(live ? "live" : "test") key; webhooks at \(settings.publicURL)\(BillingURL.stripeWebhook)")
    }

    /// Opens a connection to the SMTP server as a delivery would (greeting, EHLO, STARTTLS,
    /// AUTH), then says QUIT.
    func mail() async -> Finding {
        guard let smtp = settings.smtp else {
            if settings.developmentMail {
                return .warning("mail", "development mail: messages are written to \(settings.mailDropDirectory), none is sent")
            }
            return .problem("mail", "MASTHEAD_SMTP_URL is not set: masthead serve will not start without it (or MASTHEAD_DEV_MAIL=1)")
        }
        do {
            let signer = try settings.dkim?.signer()
            let transport = SMTPTransport(configuration: smtp, heloName: URL(string: settings.publicURL)?.host ?? "localhost", signer: signer)
            let connection = try await transport.connect()
            await connection.close()
            if smtp.security == .opportunisticSTARTTLS, !["127.0.0.1", "localhost", "::1"].contains(smtp.host) {
                return .warning("mail", "\(smtp.host):\(smtp.port) accepted a connection, but STARTTLS is only opportunistic: mail may cross the network unencrypted")
            }
            return .ok("mail", "\(smtp.host):\(smtp.port) accepted a connection\(smtp.username == nil ? "" : " and the credentials")\(signer == nil ? "" : "; DKIM key loaded")")
        } catch {
            return .problem("mail", "\(smtp.host):\(smtp.port): \(String(describing: error).prefix(200))")
        }
    }

    /// Opens the database alone, creating nothing: a missing SQLite file is reported, not made.
    func database() async -> [Finding] {
        do {
            try await DatabaseSetup.preflight(settings)
        } catch {
            return [.problem("database", "\(error)")]
        }
        var quiet = Logger(label: "masthead.doctor")
        quiet.logLevel = .critical
        let app: Application
        do {
            app = try await Application.make(Environment(name: "production", arguments: ["masthead"]), logger: quiet)
        } catch {
            return [.problem("database", "\(error)")]
        }
        var findings: [Finding]
        do {
            if try DatabaseSetup.openForInspection(app, settings: settings) {
                findings = await database(app.db)
                if settings.readReplicaURL != nil { findings.append(await replica(primary: app.db, replica: app.db(ReadReplica.id))) }
            } else {
                findings = [.problem("database", "there is no database at \(settings.database) yet: masthead migrate (or serve) creates it")]
            }
        } catch {
            findings = [.problem("database", "\(error)")]
        }
        try? await app.asyncShutdown()
        return findings
    }

    private func database(_ db: any Database) async -> [Finding] {
        let sql = db as! any SQLDatabase
        var findings: [Finding] = []
        let isPostgres: Bool
        if case .postgres = settings.database { isPostgres = true } else { isPostgres = false }
        do {
            let version = try await sql.raw(isPostgres ? "SELECT current_setting('server_version') AS v" : "SELECT sqlite_version() AS v").first()?
                .decode(column: "v", as: String.self) ?? "?"
            findings.append(.ok("database", "\(isPostgres ? "PostgreSQL" : "SQLite") \(version) at \(settings.database) answers"))
        } catch {
            return [.problem("database", "\(settings.database) does not answer: \(String(reflecting: error).prefix(200))")]
        }
        do {
            let pending = try await DatabaseSetup.pendingMigrations(on: db)
            findings.append(pending.isEmpty
                ? .ok("migrations", "all \(MastheadMigrations.all.count) applied")
                : .problem("migrations", "\(pending.count) of this build's \(MastheadMigrations.all.count) migrations are not applied: run masthead migrate"))
            guard pending.isEmpty else { return findings }
        } catch {
            return findings + [.problem("migrations", "the database holds no Masthead schema yet: run masthead migrate")]
        }
        if isPostgres {
            do {
                let now = try await sql.raw("SELECT extract(epoch FROM clock_timestamp())::float8 AS t").first()?.decode(column: "t", as: Double.self) ?? 0
                let skew = now - Date().timeIntervalSince1970
                findings.append(abs(skew) <= Self.clockTolerance
                    ? .ok("clock", String(format: "within %.2f s of the database server's", abs(skew)))
                    : .problem("clock", String(format: "%.1f s %@ the database server's: sign-in links and sessions would expire early or late (run NTP)", abs(skew), skew > 0 ? "behind" : "ahead of")))
            } catch {
                findings.append(.warning("clock", "could not read the database server's clock: \(error)"))
            }
        } else {
            findings.append(.ok("clock", "one machine: the database and the server share it"))
        }
        findings += await instances(db)
        return findings
    }

    /// Whether `MASTHEAD_DATABASE_READ_URL` is a standby, and how far it has replayed the site.
    private func replica(primary: any Database, replica: any Database) async -> Finding {
        do {
            let standby = try await (replica as! any SQLDatabase).raw("SELECT pg_is_in_recovery() AS standby").first()?.decode(column: "standby", as: Bool.self) ?? false
            let replayed = try await SiteCounters.values(on: replica)
            let current = try await SiteCounters.values(on: primary)
            guard standby else {
                return .problem("read replica", "MASTHEAD_DATABASE_READ_URL is not a standby (pg_is_in_recovery() is false): it is never read")
            }
            guard let identity = current[ReadReplica.identityKey] else {
                return .warning("read replica", "a standby, not yet known to be this site's: the first instance started with MASTHEAD_DATABASE_READ_URL marks the primary, and the replica is read once it holds the mark")
            }
            guard replayed[ReadReplica.identityKey] == identity else {
                return .problem("read replica", "MASTHEAD_DATABASE_READ_URL is not a standby of this site's database (or has not replayed it yet): it is never read")
            }
            let behind = (current[ContentGeneration.key] ?? 0) - (replayed[ContentGeneration.key] ?? 0)
            return behind <= 0
                ? .ok("read replica", "a standby that has replayed the site's latest change")
                : .warning("read replica", "a standby \(behind) change\(behind == 1 ? "" : "s") behind: public pages are read from the primary until it catches up")
        } catch {
            return .problem("read replica", "MASTHEAD_DATABASE_READ_URL does not answer (\(String(reflecting: error).prefix(200))): public pages are read from the primary")
        }
    }

    /// What the heartbeats of the instances on this database say about them.
    private func instances(_ db: any Database) async -> [Finding] {
        let live: [InstanceRegistry.Instance]
        do {
            live = try await InstanceRegistry(database: db).live()
        } catch {
            return [.warning("instances", "could not read the instances' heartbeats: \(error)")]
        }
        guard !live.isEmpty else {
            return [.warning("instances", "none has been heard from in the last two minutes: is masthead serve running?")]
        }
        var findings: [Finding] = []
        let roles = Dictionary(grouping: live, by: \.role).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
        if live.contains(where: { $0.role != ServerRole.web.rawValue }) {
            findings.append(.ok("instances", "\(live.count) running (\(roles))"))
        } else {
            findings.append(.problem("instances", "\(live.count) running (\(roles)), none runs the background jobs: mail, newsletters and scheduled articles wait (start one with --role worker)"))
        }
        let older = live.filter { $0.migrations < MastheadMigrations.all.count }
        if !older.isEmpty {
            findings.append(.warning("builds", "\(older.count) of \(live.count) instances run an older build (\(older.map(\.name).joined(separator: "; "))): a rolling deploy under way?"))
        }
        do {
            guard let key = try SiteSecret.read(settings) else {
                return findings + [.warning("shared secret", "this machine has no secret yet to compare with the instances'")]
            }
            let ours = InstanceRegistry.fingerprint(of: key)
            let others = live.filter { $0.secretFingerprint != ours }
            findings.append(others.isEmpty
                ? .ok("shared secret", "every running instance signs with this secret")
                : .problem("shared secret", "\(others.count) of \(live.count) instances sign with a different secret (\(others.map(\.name).joined(separator: "; "))): set the same MASTHEAD_SECRET on every instance"))
        } catch {
            findings.append(.problem("shared secret", "\(error)"))
        }
        return findings
    }
}
