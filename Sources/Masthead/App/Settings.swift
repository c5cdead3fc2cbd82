import Foundation
import Logging

/// Everything Masthead reads from its environment, read once at start-up.
/// Nothing else in the code base looks at environment variables.
public struct Settings: Sendable {
    public enum DatabaseLocation: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    public var database: DatabaseLocation
    /// A PostgreSQL streaming replica for the public pages' reads (`MASTHEAD_DATABASE_READ_URL`).
    public var readReplicaURL: String?
    /// PostgreSQL connections per event loop (SQLite keeps one: it has one writer anyway).
    public var databasePoolSize: Int
    public var dataDirectory: String
    /// Uploaded and demo images; a shared volume when several instances serve one site.
    public var mediaDirectory: String
    public var publicURL: String
    public var hostname: String
    public var port: Int
    public var themeDirectory: String
    public var editionCodes: [String]
    public var pageSize: Int
    public var generationPollInterval: Duration
    /// How often each instance reads the content generation: a publish or a breaking-news
    /// banner reaches every instance within it. One small query, so kept short.
    public var generationWatchInterval: Duration
    /// How often, at most, comment counts on the cached cards are brought up to date
    /// (`MASTHEAD_COMMENT_COUNTS_EVERY`, seconds): each time clears every instance's page cache,
    /// so the default leaves readers' counts a few minutes behind and the caches whole.
    public var commentCountsInterval: Duration
    /// How long a CDN or other shared cache may keep a public page (`MASTHEAD_CDN_MAX_AGE`,
    /// seconds): its `s-maxage`. Browsers keep one a minute whatever this says.
    public var cdnMaxAge: Int
    /// Where a publish asks the CDN to forget the pages it changed; none by default.
    public var cdnPurge: CDNPurgeHook?
    /// When a purge is sent again (`CDNPurger`): longer than any instance takes to hear of a change.
    var cdnPurgeRepeat: Duration = .seconds(15)
    /// The push services breaking-news alerts may be sent to (`MASTHEAD_PUSH_SERVICES`).
    var pushServices: PushServices
    public var logLevel: Logger.Level
    /// Where mail goes; without it, mail is written to the data folder as development mail.
    public var smtp: SMTPConfiguration?
    /// DKIM signing of outgoing mail, when the domain, selector and key file are all set.
    public var dkim: DKIMSettings?
    public var mailFrom: EmailMessage.Address
    /// The key that signs CSRF tokens and links; generated into the data folder when unset.
    public var secret: String?
    /// Proxies whose `Forwarded`/`X-Forwarded-*` headers name the client and its scheme.
    public var trustedProxies: TrustedProxies
    /// Without an SMTP server, mail is only written to the data folder, which an operator must ask for.
    public var developmentMail: Bool
    /// The edge's limits on what clients may hold open.
    public var limits: ConnectionLimits
    /// The bearer token Prometheus sends for `/metrics`; without one, `/metrics` is not served.
    public var metricsToken: String?
    /// How readers pay: Stripe, or test mode when no Stripe key is set.
    public var billing: BillingSettings
    public var newsletters: NewsletterSettings
    /// Whether this process delivers mail and newsletters and publishes on schedule; off for
    /// an instance that should only serve pages while `masthead worker` runs elsewhere.
    public var backgroundJobs: Bool
    /// What `masthead serve` runs: pages, background jobs, or both.
    public var role: ServerRole
    /// The role decides, except that `MASTHEAD_BACKGROUND_JOBS=0` also turns the jobs off for `all`.
    var runsBackgroundJobs: Bool { role == .worker || (role == .all && backgroundJobs) }
    /// Content API requests a key may make per minute, on each instance.
    public var apiRequestsPerMinute: Int
    /// Backups taken on a schedule by the background jobs; none unless a folder is set.
    public var scheduledBackups: ScheduledBackupSettings?
    /// What admins changed on the settings page, shared by every copy of these settings and
    /// kept in step with the database; each value falls back to the configured one.
    let live = LiveSiteSettings()
    private var configuredSiteName: String
    private var configuredMembershipPrice: String
    private var configuredPreviewParagraphs: Int
    private var configuredMemberMeter: Int
    private var configuredAnonymousMeter: Int
    private var configuredTimeZone: TimeZone

    public var siteName: String {
        get { live.current.siteName ?? configuredSiteName }
        set { configuredSiteName = newValue }
    }

    public var membershipPrice: String {
        get { live.current.membershipPrice ?? configuredMembershipPrice }
        set { configuredMembershipPrice = newValue }
    }

    /// Top-level blocks anyone may read before the paywall, when the editor placed no marker.
    public var previewParagraphs: Int {
        get { live.current.previewParagraphs ?? configuredPreviewParagraphs }
        set { configuredPreviewParagraphs = newValue }
    }

    /// Gated articles a signed-in free member may open per 30 days (0: no metering).
    public var memberMeter: Int {
        get { live.current.memberMeter ?? configuredMemberMeter }
        set { configuredMemberMeter = newValue }
    }

    /// Gated articles an anonymous reader may open per 30 days (0: no metering).
    public var anonymousMeter: Int {
        get { live.current.anonymousMeter ?? configuredAnonymousMeter }
        set { configuredAnonymousMeter = newValue }
    }

    /// Where the newsroom is: the admin shows and reads times in this zone.
    public var timeZone: TimeZone {
        get { live.current.timeZone.flatMap(TimeZone.init(identifier:)) ?? configuredTimeZone }
        set { configuredTimeZone = newValue }
    }

    /// The outlet's logo in the media folder, shown in place of its name in the header.
    public var logoPath: String? { live.current.logoPath }

    /// Links added to the sections in the site's navigation.
    public var extraNavigation: [SiteSettingsValues.Link] { live.current.navigation ?? [] }

    public init(
        database: DatabaseLocation,
        databasePoolSize: Int = 4,
        dataDirectory: String,
        mediaDirectory: String? = nil,
        publicURL: String,
        hostname: String = "127.0.0.1",
        port: Int = 8080,
        themeDirectory: String = Settings.defaultThemeDirectory(),
        editionCodes: [String] = ["en", "ar"],
        siteName: String = "Masthead",
        pageSize: Int = 12,
        previewParagraphs: Int = 3,
        membershipPrice: String = "$100",
        generationPollInterval: Duration = .seconds(2),
        generationWatchInterval: Duration = .milliseconds(500),
        commentCountsInterval: Duration = .seconds(300),
        cdnMaxAge: Int = 60,
        cdnPurge: CDNPurgeHook? = nil,
        logLevel: Logger.Level = .notice,
        smtp: SMTPConfiguration? = nil,
        dkim: DKIMSettings? = nil,
        mailFrom: EmailMessage.Address? = nil,
        secret: String? = nil,
        memberMeter: Int = 0,
        anonymousMeter: Int = 0,
        timeZone: TimeZone = .gmt,
        trustedProxies: TrustedProxies = .loopback,
        developmentMail: Bool = false,
        limits: ConnectionLimits = .init(),
        billing: BillingSettings = .init(),
        newsletters: NewsletterSettings = .init(),
        backgroundJobs: Bool = true,
        role: ServerRole = .all,
        apiRequestsPerMinute: Int = 600,
        scheduledBackups: ScheduledBackupSettings? = nil,
        pushServiceHosts: [String]? = nil,
        metricsToken: String? = nil
    ) {
        self.database = database
        self.databasePoolSize = databasePoolSize
        self.dataDirectory = dataDirectory
        self.mediaDirectory = mediaDirectory ?? (dataDirectory as NSString).appendingPathComponent("media")
        self.publicURL = publicURL
        self.hostname = hostname
        self.port = port
        self.themeDirectory = themeDirectory
        self.editionCodes = editionCodes
        self.configuredSiteName = siteName
        self.configuredMembershipPrice = membershipPrice
        self.configuredPreviewParagraphs = previewParagraphs
        self.configuredMemberMeter = memberMeter
        self.configuredAnonymousMeter = anonymousMeter
        self.configuredTimeZone = timeZone
        self.pageSize = pageSize
        self.generationPollInterval = generationPollInterval
        self.generationWatchInterval = generationWatchInterval
        self.commentCountsInterval = commentCountsInterval
        self.cdnMaxAge = cdnMaxAge
        self.cdnPurge = cdnPurge
        self.logLevel = logLevel
        self.smtp = smtp
        self.dkim = dkim
        let host = URL(string: publicURL)?.host ?? "localhost"
        self.mailFrom = mailFrom ?? .init(email: "noreply@\(host.contains(".") ? host : "\(host).localdomain")", name: siteName)
        self.secret = secret
        self.trustedProxies = trustedProxies
        self.developmentMail = developmentMail
        self.limits = limits
        self.billing = billing
        self.newsletters = newsletters
        self.backgroundJobs = backgroundJobs
        self.role = role
        self.apiRequestsPerMinute = apiRequestsPerMinute
        self.scheduledBackups = scheduledBackups
        self.pushServices = pushServiceHosts.map(PushServices.init(hosts:)) ?? .browsers
        self.metricsToken = metricsToken
    }

    /// Builds settings from `MASTHEAD_*` variables. Command-line flags (hostname, port, data folder)
    /// override the environment; the public URL defaults to the address the server listens on.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        hostname: String? = nil,
        port: Int? = nil,
        dataDirectory: String? = nil
    ) throws -> Settings {
        let host = hostname ?? environment["MASTHEAD_HOSTNAME"] ?? "127.0.0.1"
        let listenPort = try port ?? environment["MASTHEAD_PORT"].map { try parseInteger($0, name: "MASTHEAD_PORT", range: 1...65535) } ?? 8080
        let data = dataDirectory ?? environment["MASTHEAD_DATA"] ?? "./data"
        let database = try parseDatabaseURL(environment["MASTHEAD_DATABASE_URL"], dataDirectory: data)
        let readReplica = try parseReadReplicaURL(environment["MASTHEAD_DATABASE_READ_URL"], primary: database)
        let editions = (environment["MASTHEAD_EDITIONS"] ?? "en,ar")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !editions.isEmpty else { throw SettingsError("MASTHEAD_EDITIONS names no edition") }
        let displayHost = host == "0.0.0.0" ? "127.0.0.1" : host
        var publicURL = environment["MASTHEAD_PUBLIC_URL"] ?? "http://\(displayHost):\(listenPort)"
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        guard let scheme = URL(string: publicURL)?.scheme, ["http", "https"].contains(scheme) else {
            throw SettingsError("MASTHEAD_PUBLIC_URL must be an http or https URL, got '\(publicURL)'")
        }
        var settings = Settings(
            database: database,
            databasePoolSize: try environment["MASTHEAD_DATABASE_POOL_SIZE"].map { try parseInteger($0, name: "MASTHEAD_DATABASE_POOL_SIZE", range: 1...64) } ?? 4,
            dataDirectory: data,
            mediaDirectory: environment["MASTHEAD_MEDIA"].flatMap { $0.isEmpty ? nil : $0 },
            publicURL: publicURL,
            hostname: host,
            port: listenPort,
            themeDirectory: environment["MASTHEAD_THEME"] ?? defaultThemeDirectory(),
            editionCodes: editions,
            siteName: environment["MASTHEAD_SITE_NAME"] ?? "Masthead",
            pageSize: try environment["MASTHEAD_PAGE_SIZE"].map { try parseInteger($0, name: "MASTHEAD_PAGE_SIZE", range: 1...100) } ?? 12,
            previewParagraphs: try environment["MASTHEAD_PREVIEW_PARAGRAPHS"].map { try parseInteger($0, name: "MASTHEAD_PREVIEW_PARAGRAPHS", range: 1...20) } ?? 3,
            membershipPrice: environment["MASTHEAD_MEMBERSHIP_PRICE"] ?? "$100",
            commentCountsInterval: .seconds(Int64(try environment["MASTHEAD_COMMENT_COUNTS_EVERY"].map {
                try parseInteger($0, name: "MASTHEAD_COMMENT_COUNTS_EVERY", range: 1...86_400)
            } ?? 300)),
            cdnMaxAge: try environment["MASTHEAD_CDN_MAX_AGE"].map { try parseInteger($0, name: "MASTHEAD_CDN_MAX_AGE", range: 0...31_536_000) } ?? 60,
            cdnPurge: try CDNPurgeHook.fromEnvironment(environment),
            logLevel: try parseLogLevel(environment["MASTHEAD_LOG_LEVEL"] ?? "notice"),
            smtp: try environment["MASTHEAD_SMTP_URL"].flatMap { $0.isEmpty ? nil : try SMTPConfiguration(url: $0) },
            dkim: try DKIMSettings.fromEnvironment(environment),
            mailFrom: try environment["MASTHEAD_MAIL_FROM"].map(parseMailFrom),
            secret: environment["MASTHEAD_SECRET"].flatMap { $0.isEmpty ? nil : $0 },
            memberMeter: try environment["MASTHEAD_METER_MEMBERS"].map { try parseInteger($0, name: "MASTHEAD_METER_MEMBERS", range: 0...100) } ?? 0,
            anonymousMeter: try environment["MASTHEAD_METER_ANONYMOUS"].map { try parseInteger($0, name: "MASTHEAD_METER_ANONYMOUS", range: 0...100) } ?? 0,
            timeZone: try environment["MASTHEAD_TIME_ZONE"].map(parseTimeZone) ?? .gmt,
            trustedProxies: try environment["MASTHEAD_TRUSTED_PROXIES"].map(TrustedProxies.init(parsing:)) ?? .loopback,
            developmentMail: try parseFlag(environment["MASTHEAD_DEV_MAIL"], name: "MASTHEAD_DEV_MAIL"),
            limits: ConnectionLimits(
                maximumConnections: try environment["MASTHEAD_MAX_CONNECTIONS"].map { try parseInteger($0, name: "MASTHEAD_MAX_CONNECTIONS", range: 16...1_000_000) } ?? ConnectionLimits.default.maximumConnections,
                headTimeout: .seconds(Int64(try environment["MASTHEAD_HEAD_TIMEOUT"].map { try parseInteger($0, name: "MASTHEAD_HEAD_TIMEOUT", range: 1...600) } ?? 10)),
                bodyTimeout: .seconds(Int64(try environment["MASTHEAD_BODY_TIMEOUT"].map { try parseInteger($0, name: "MASTHEAD_BODY_TIMEOUT", range: 1...3600) } ?? 60)),
                drainTimeout: .seconds(Int64(try environment["MASTHEAD_SHUTDOWN_GRACE"].map { try parseInteger($0, name: "MASTHEAD_SHUTDOWN_GRACE", range: 0...600) } ?? 25))
            ),
            billing: try BillingSettings.fromEnvironment(environment, testMode: try parseFlag(environment["MASTHEAD_BILLING_TEST_MODE"], name: "MASTHEAD_BILLING_TEST_MODE")) {
                try parseInteger($0, name: "MASTHEAD_BILLING_GRACE_DAYS", range: 0...60)
            },
            newsletters: try NewsletterSettings.fromEnvironment(environment) { text, name, range in
                try text.map { try parseInteger($0, name: name, range: range) }
            },
            backgroundJobs: try environment["MASTHEAD_BACKGROUND_JOBS"].map { try parseFlag($0, name: "MASTHEAD_BACKGROUND_JOBS") } ?? true,
            role: try environment["MASTHEAD_ROLE"].flatMap { $0.isEmpty ? nil : $0 }.map(parseRole) ?? .all,
            apiRequestsPerMinute: try environment["MASTHEAD_API_RATE_LIMIT"].map {
                try parseInteger($0, name: "MASTHEAD_API_RATE_LIMIT", range: 1...1_000_000)
            } ?? 600,
            scheduledBackups: try environment["MASTHEAD_BACKUP_DIR"].flatMap { $0.isEmpty ? nil : $0 }.map { folder in
                ScheduledBackupSettings(
                    folder: folder,
                    everyHours: try environment["MASTHEAD_BACKUP_EVERY_HOURS"].map { try parseInteger($0, name: "MASTHEAD_BACKUP_EVERY_HOURS", range: 1...720) } ?? 24,
                    keep: try environment["MASTHEAD_BACKUP_KEEP"].map { try parseInteger($0, name: "MASTHEAD_BACKUP_KEEP", range: 1...1000) } ?? 7
                )
            },
            pushServiceHosts: environment["MASTHEAD_PUSH_SERVICES"].map { PushServices(parsing: $0).hosts },
            metricsToken: try environment["MASTHEAD_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : try parseMetricsToken($0) }
        )
        settings.readReplicaURL = readReplica
        return settings
    }

    /// Prometheus sends the token with every scrape; one short enough to guess would publish
    /// the site's traffic to anyone who tried.
    private static func parseMetricsToken(_ text: String) throws -> String {
        guard text.count >= 24, text.allSatisfy({ $0.isASCII && !$0.isWhitespace }), !SiteSecret.isGuessable(text) else {
            throw SettingsError("MASTHEAD_METRICS_TOKEN must be at least 24 characters without spaces (try: openssl rand -hex 24)")
        }
        return text
    }

    private static func parseFlag(_ text: String?, name: String) throws -> Bool {
        switch text?.lowercased() {
        case nil, "", "0", "false", "no": return false
        case "1", "true", "yes": return true
        default: throw SettingsError("\(name) must be 1 or 0, got '\(text ?? "")'")
        }
    }

    static func parseTimeZone(_ text: String) throws -> TimeZone {
        guard let zone = TimeZone(identifier: text) else {
            throw SettingsError("MASTHEAD_TIME_ZONE must be a time zone such as Asia/Beirut or GMT, got '\(text)'")
        }
        return zone
    }

    static func parseReadReplicaURL(_ value: String?, primary: DatabaseLocation) throws -> String? {
        guard let value, !value.isEmpty else { return nil }
        guard case .postgres = primary else { throw SettingsError("MASTHEAD_DATABASE_READ_URL needs MASTHEAD_DATABASE_URL on PostgreSQL") }
        guard value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") else {
            throw SettingsError("MASTHEAD_DATABASE_READ_URL must be a postgres:// URL")
        }
        return value
    }

    static func parseDatabaseURL(_ value: String?, dataDirectory: String) throws -> DatabaseLocation {
        guard let value, !value.isEmpty else {
            return .sqlite(path: (dataDirectory as NSString).appendingPathComponent("masthead.sqlite"))
        }
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            return .postgres(url: value)
        }
        if value.hasPrefix("sqlite://") {
            let path = String(value.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw SettingsError("MASTHEAD_DATABASE_URL names no SQLite file") }
            return .sqlite(path: path)
        }
        if !value.contains("://") { return .sqlite(path: value) }
        throw SettingsError("MASTHEAD_DATABASE_URL must be an SQLite path, sqlite:// or postgres:// URL")
    }

    /// The theme shipped with Masthead: `Themes/default` in the working directory (as `swift run`
    /// uses it), else beside the executable or in a folder above it (a build in `.build/release`,
    /// or an install with `share/masthead/Themes`), so that the binary finds its theme wherever
    /// it is started from. `MASTHEAD_THEME` names any other.
    public static func defaultThemeDirectory(
        executable: URL? = Bundle.main.executableURL, workingDirectory: String = FileManager.default.currentDirectoryPath
    ) -> String {
        let relative = "Themes/default"
        var candidates = [(workingDirectory as NSString).appendingPathComponent(relative)]
        if var folder = executable?.resolvingSymlinksInPath().deletingLastPathComponent() {
            for _ in 0..<6 {
                candidates.append(folder.appendingPathComponent(relative).path)
                candidates.append(folder.appendingPathComponent("share/masthead").appendingPathComponent(relative).path)
                folder.deleteLastPathComponent()
            }
        }
        return candidates.first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("templates")) } ?? relative
    }

    /// `Name <address>` or a bare address.
    private static func parseMailFrom(_ text: String) throws -> EmailMessage.Address {
        if let open = text.lastIndex(of: "<"), text.hasSuffix(">") {
            let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            if let email = EmailAddress.normalized(address) { return .init(email: email, name: name.isEmpty ? nil : name) }
        } else if let email = EmailAddress.normalized(text) {
            return .init(email: email)
        }
        throw SettingsError("MASTHEAD_MAIL_FROM must be an address such as 'Newsroom <news@example.com>', got '\(text)'")
    }

    public static func parseRole(_ text: String) throws -> ServerRole {
        guard let role = ServerRole(rawValue: text.lowercased()) else {
            throw SettingsError("the role must be one of \(ServerRole.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return role
    }

    private static func parseLogLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw SettingsError("MASTHEAD_LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return level
    }

    private static func parseInteger(_ text: String, name: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw SettingsError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }
}

public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
