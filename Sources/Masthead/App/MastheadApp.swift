import Fluent
import Foundation
import Logging
import Vapor

/// Builds the whole application from settings: database, theme, page cache, middleware, routes.
/// The CLI and the tests both start Masthead through here.
public enum MastheadApp {
    public static func make(settings: Settings) async throws -> Application {
        try await DatabaseSetup.preflight(settings)
        var environment = Environment.production
        environment.arguments = ["masthead"]
        var logger = Logger(label: "masthead")
        logger.logLevel = settings.logLevel
        let app = try await Application.make(environment, logger: logger)
        do {
            try configure(app, settings: settings)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        return app
    }

    static func configure(_ app: Application, settings: Settings) throws {
        app.http.server.configuration.hostname = settings.hostname
        app.http.server.configuration.port = settings.port
        try DatabaseSetup.configure(app, settings: settings)

        let theme = try Theme.load(directory: settings.themeDirectory, editionCodes: settings.editionCodes)
        let secret = try SiteSecret.load(settings)
        let vapid = VAPID(secret: secret, subject: "mailto:\(settings.mailFrom.email)")
        let breaking = BreakingNewsBoard()
        let pages = SitePages(theme: theme, settings: settings, breaking: breaking, pushKey: vapid.publicKey)
        let metrics = ServerMetrics()
        app.storage[ServerMetricsKey.self] = metrics
        let cache = PageCache(lookups: (metrics.pageCacheHits, metrics.pageCacheMisses))
        app.storage[PageCacheKey.self] = cache
        // The API's answers have a cache of their own, so that clients asking many different
        // questions cannot push the site's pages out.
        let apiCache = PageCache(capacity: 2_000, byteBudget: 64 * 1024 * 1024)
        let viewers = Viewers()
        let cachedPages = CachedPages(cache: cache, viewers: viewers, settings: settings)
        app.storage[CachedPagesKey.self] = cachedPages
        let server = FrontServer(application: app, services: .init(
            limits: settings.limits, proxies: settings.trustedProxies, fastPath: cachedPages,
            files: MediaFiles(directory: settings.mediaDirectory, fileIO: app.fileio),
            largeBodyAllowance: { [unowned app] head in
                if head.uri == BillingURL.stripeWebhook { return WebhookController.bodyBytes }
                if head.uri == AdminAPIController.imagesPath {
                    return await StaffTokens.holds(.mediaWrite, headers: head.headers, database: app.db) ? settings.limits.staffBodyBytes : settings.limits.formBodyBytes
                }
                if head.uri.hasPrefix(AdminAPIController.articlesPath) {
                    let writer = await StaffTokens.holds(.articlesWrite, headers: head.headers, database: app.db)
                    return writer ? AdminAPIController.articleBodyBytes.value : settings.limits.formBodyBytes
                }
                let staff = await StaffSignIn.mayUpload(uri: head.uri, headers: head.headers, database: app.db)
                return staff ? settings.limits.staffBodyBytes : settings.limits.formBodyBytes
            },
            metrics: metrics
        ))
        app.storage[FrontServerKey.self] = server
        app.servers.use { _ in server }
        if settings.readReplicaURL != nil {
            let replica = ReadReplica { cache.currentGeneration }
            app.storage[ReadReplicaKey.self] = replica
            app.lifecycle.use(replica)
        }
        app.lifecycle.use(GenerationWatcher(
            caches: [cache, apiCache], settings: settings.live, breaking: breaking, viewers: viewers, interval: settings.generationWatchInterval,
            commentCountsInterval: settings.commentCountsInterval, listener: try DatabaseSetup.changeListener(settings, logger: app.logger)
        ))
        let startedAt = Date()
        app.storage[InstanceHeartbeatKey.self] = PeriodicJob(name: "heartbeat", interval: InstanceRegistry.heartbeat) { app in
            try await InstanceRegistry(database: app.db).beat(InstanceRegistry.this(settings: settings, key: secret, startedAt: startedAt))
            return 0
        }
        if settings.runsBackgroundJobs {
            app.usePeriodically(PeriodicJob(name: "scheduler", interval: settings.generationPollInterval) { app in
                let published = try await ScheduledPublishing(database: app.db).publishDue(now: Date())
                if published > 0 { app.logger.notice("scheduler.published", metadata: ["count": "\(published)"]) }
                return published
            })
            app.lifecycle.use(Housekeeping())
        }

        app.middleware = Middlewares()
        app.middleware.use(SecurityHeadersMiddleware())
        let apiMethods = APIMethods()
        app.middleware.use(SiteErrorMiddleware(pages: pages, editions: theme.editions, apiMethods: apiMethods))
        app.middleware.use(LegacyRedirects(editions: theme.editions))
        let transport = try mailTransport(settings: settings, app: app)
        let newsletterLinks = NewsletterLinks(key: secret, publicURL: settings.publicURL)
        if settings.runsBackgroundJobs {
            app.usePeriodically(PeriodicJob(name: "outbox", interval: settings.generationPollInterval) { app in
                try await OutboxSender(database: app.db, transport: transport, logger: app.logger).sendDue()
            })
            let timings = DeliveryTimings()
            app.storage[DeliveryTimingsKey.self] = timings
            let deliverer = NewsletterDeliverer(
                database: app.db, connector: transport, settings: settings.newsletters,
                renderer: NewsletterRenderer(pages: pages, database: app.db), links: newsletterLinks, pacer: SendPacer(), logger: app.logger,
                timings: timings
            )
            app.usePeriodically(PeriodicJob(name: "newsletter", interval: settings.generationPollInterval) { _ in try await deliverer.deliverDue() })
            if let schedule = settings.scheduledBackups {
                let backups = ScheduledBackups(settings: settings, schedule: schedule)
                app.usePeriodically(PeriodicJob(name: "backup", interval: settings.generationPollInterval) { app in try await backups.runIfDue(app) == nil ? 0 : 1 })
            }
            // For push services and the CDN's purge hook: addresses the operator configured or
            // vetted, never followed elsewhere by a redirect.
            let outboundClient = HTTPClient(
                eventLoopGroup: app.eventLoopGroup,
                configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(15)))
            )
            app.lifecycle.use(ClosingHTTPClient(client: outboundClient))
            let pushes = PushDeliverer(database: app.db, client: outboundClient, vapid: vapid, theme: theme, settings: settings, logger: app.logger)
            app.usePeriodically(PeriodicJob(name: "push", interval: settings.generationPollInterval) { _ in try await pushes.deliverDue() })
            let purger = CDNPurger(
                database: app.db, client: outboundClient, hook: settings.cdnPurge,
                relevance: TimeInterval(settings.cdnMaxAge + CachedResponder.staleWhileRevalidate),
                repeatAfter: TimeInterval(settings.cdnPurgeRepeat.components.seconds), logger: app.logger
            )
            app.usePeriodically(PeriodicJob(name: "cdn-purge", interval: settings.generationPollInterval) { _ in try await purger.purgeDue() })
            app.usePeriodically(PeriodicJob(name: "search-rebuild", interval: settings.generationPollInterval) { app in
                try await SearchRebuilds(database: app.backgroundDatabase, renewals: app.db).runDue(logger: app.logger)
            })
        }
        let csrf = CSRF(key: secret, siteOrigin: settings.publicOrigin)
        app.middleware.use(FormProtection(csrf: csrf))
        app.middleware.use(ViewerMiddleware(viewers: viewers, settings: settings))

        HealthController().register(on: app)
        if let token = settings.metricsToken {
            MetricsController(
                metrics: metrics, token: token, server: server, database: settings.database,
                poolSize: settings.databasePoolSize * app.eventLoopCount
            ).register(on: app)
        }
        StaticController(theme: theme).register(on: app)
        PushController(theme: theme, settings: settings).register(on: app)
        CommentsController(pages: pages, csrf: csrf).register(on: app)
        RobotsController(publicURL: settings.publicURL).register(on: app)
        SiteController(pages: pages, cache: cache, settings: settings, readerIDs: ReaderIDs(key: secret)).register(on: app, editions: theme.editions)
        let liveHub = LiveHub(database: app.db, logger: app.logger)
        app.storage[LiveHubKey.self] = liveHub
        LiveEventsController(hub: liveHub, pages: pages).register(on: app)
        EarlierUpdatesController(pages: pages).register(on: app)
        let searchCatalog = SearchCatalog { cache.currentGeneration }
        let limits = RateLimits(perMinute: settings.apiRequestsPerMinute, failedKeysPerMinute: ContentAPIController.failedKeysPerMinute)
        if case .postgres = settings.database {
            let windows = SharedRateWindows(limiters: limits.all, key: secret)
            app.usePeriodically(PeriodicJob(name: "rate-windows", interval: SharedRateWindows.interval) { app in try await windows.share(on: app.db) })
        }
        SearchController(pages: pages, settings: settings, limiter: limits.search, catalog: searchCatalog).register(on: app, editions: theme.editions)
        let responder = CachedResponder(cache: cache, settings: settings)
        FeedController(responder: responder, settings: settings, editions: theme.editions).register(on: app)
        SitemapController(responder: responder, settings: settings, editions: theme.editions).register(on: app)
        let apiKeys = APIKeys()
        ContentAPIController(
            keys: apiKeys, limiter: limits.contentAPI, failures: limits.contentAPIFailures, cache: apiCache, settings: settings, editions: theme.editions,
            catalog: searchCatalog
        ).register(on: app)
        AdminAPIController(settings: settings, editions: theme.editions, limiter: limits.adminAPI, failures: limits.adminAPIFailures).register(on: app)
        try OpenAPIController(publicURL: settings.publicURL).register(on: app)
        apiMethods.learn(app.routes)
        let billing = registerBilling(on: app, pages: pages, csrf: csrf, settings: settings, viewers: viewers, editions: theme.editions)
        MembersController(pages: pages, csrf: csrf, mail: MemberMail(transport: transport, settings: settings), settings: settings, viewers: viewers, billing: billing)
            .register(on: app, editions: theme.editions)
        NewsletterController(pages: pages, csrf: csrf, settings: settings, links: newsletterLinks, editions: theme.editions).register(on: app)
        registerAdmin(on: app, theme: theme, csrf: csrf, mail: StaffMail(transport: transport, settings: settings), settings: settings, viewers: viewers, billing: billing, transport: transport, apiKeys: apiKeys, searchCatalog: searchCatalog, resetLimiter: limits.staffResets)
    }

    /// Payment through Stripe when it is configured, with its signed webhooks; else test mode,
    /// when asked for, with its own checkout page and no webhook endpoint at all; else none.
    private static func registerBilling(on app: Application, pages: SitePages, csrf: CSRF, settings: Settings, viewers: Viewers, editions: EditionCatalog) -> Billing {
        var provider: (any PaymentProvider)?
        if let stripe = settings.billing.stripe {
            provider = StripeProvider(stripe, app: app)
        } else if settings.billing.testMode {
            provider = TestModeProvider(publicURL: settings.publicURL)
        }
        let billing = Billing(
            provider: provider, publicURL: settings.publicURL, rules: EntitlementRules(settings.billing), isTestMode: settings.billing.isTestMode,
            mail: BillingMail(editions: editions, settings: settings)
        )
        JoinController(pages: pages, csrf: csrf, billing: billing, settings: settings, viewers: viewers).register(on: app, editions: editions)
        GiftController(pages: pages, csrf: csrf, billing: billing, settings: settings, viewers: viewers, editions: editions).register(on: app)
        if let stripe = settings.billing.stripe {
            WebhookController(billing: billing, signature: StripeSignature(secret: stripe.webhookSecret), metrics: app.serverMetrics).register(on: app)
        } else if settings.billing.testMode {
            TestModeController(pages: pages, csrf: csrf, billing: billing, editions: editions).register(on: app)
        }
        return billing
    }

    /// Mail goes to the SMTP server, or else is written to the data folder as development mail,
    /// which `masthead serve` only allows when asked for (`Settings.requireMailForServing`).
    private static func mailTransport(settings: Settings, app: Application) throws -> any MailTransport & MailConnector {
        if let smtp = settings.smtp {
            return SMTPTransport(configuration: smtp, group: app.eventLoopGroup, heloName: URL(string: settings.publicURL)?.host ?? "localhost", signer: try settings.dkim?.signer())
        }
        return MailDropTransport(directory: settings.mailDropDirectory, logger: app.logger)
    }

    /// The admin: a few pages reached signed out (sign-in, passwords), the rest behind a staff session.
    private static func registerAdmin(on app: Application, theme: Theme, csrf: CSRF, mail: StaffMail, settings: Settings, viewers: Viewers, billing: Billing, transport: any MailTransport, apiKeys: APIKeys, searchCatalog: SearchCatalog, resetLimiter: APIRateLimiter) {
        let admin = AdminPages(theme: theme, settings: settings, csrf: csrf)
        let open = app.grouped(AdminURL.Segment.root)
        let signedIn = open.grouped(StaffAuthenticator())
        AdminController(admin: admin, csrf: csrf, settings: settings, catalog: searchCatalog).register(public: open, signedIn: signedIn)
        let detachedWork = DetachedWork()
        app.storage[DetachedWorkKey.self] = detachedWork
        PasswordController(admin: admin, csrf: csrf, mail: mail, settings: settings, detachedWork: detachedWork, resets: resetLimiter).register(on: open)
        ArticleEditorController(admin: admin, settings: settings).register(on: signedIn)
        RevisionsController(admin: admin).register(on: signedIn)
        StaffController(admin: admin, mail: mail).register(on: signedIn)
        SecurityController(admin: admin, settings: settings).register(on: signedIn)
        AuditController(admin: admin).register(on: signedIn)
        MembersAdminController(admin: admin, viewers: viewers).register(on: signedIn)
        ComplimentaryAccessController(admin: admin, viewers: viewers, rules: billing.rules, mail: billing.mail).register(on: signedIn)
        RevenueController(admin: admin, billing: billing, currency: settings.billing.currency).register(on: signedIn)
        PlansController(admin: admin).register(on: signedIn)
        NewslettersController(admin: admin, testTransport: transport).register(on: signedIn)
        SettingsController(admin: admin, settings: settings).register(on: signedIn)
        TaxonomyController(admin: admin, settings: settings).register(on: signedIn)
        PagesController(admin: admin).register(on: signedIn)
        LiveDeskController(admin: admin).register(on: signedIn)
        BreakingNewsController(admin: admin).register(on: signedIn)
        CommentsAdminController(admin: admin, liveSettings: settings.live).register(on: signedIn)
        EditionsController(admin: admin).register(on: signedIn)
        IntegrationsController(admin: admin, keys: apiKeys).register(on: signedIn)
        APITokensController(admin: admin).register(on: signedIn)
        SearchIndexController(admin: admin).register(on: signedIn)
        BackupsController(admin: admin, settings: settings).register(on: signedIn)
    }

    /// Brings the schema up to date and checks the database answers; fills the search index
    /// if it is empty, unless the caller is about to rebuild it anyway.
    public static func migrate(_ app: Application, settings: Settings, fillingSearchIndex: Bool = true) async throws {
        try await DatabaseSetup.verifyReachable(app, settings: settings)
        try await DatabaseSetup.exclusively(settings, logger: app.logger) {
            try await app.autoMigrate()
            if fillingSearchIndex { try await SearchIndexing(database: app.db).fillIfEmpty(logger: app.logger) }
            try await Entitlements(database: app.db, rules: EntitlementRules(settings.billing)).reconcileProviders()
        }
    }
}

struct PageCacheKey: StorageKey {
    typealias Value = PageCache
}

struct ServerMetricsKey: StorageKey {
    typealias Value = ServerMetrics
}

/// The heartbeat of a serving instance, started only by `start` and `bootWorker`: the
/// command line's one-off commands are no instances.
struct InstanceHeartbeatKey: StorageKey {
    typealias Value = PeriodicJob
}

struct FrontServerKey: StorageKey {
    typealias Value = FrontServer
}

struct CachedPagesKey: StorageKey {
    typealias Value = CachedPages
}

extension Application {
    public var pageCache: PageCache? { storage[PageCacheKey.self] }

    /// Set as the application is configured; a fresh, unread one only for an application
    /// configured some other way.
    var serverMetrics: ServerMetrics { storage[ServerMetricsKey.self] ?? ServerMetrics() }
}

extension Settings {
    /// A server that answers readers must send their mail: without an SMTP server, sign-in and
    /// password links would sit in the data folder, so that is only allowed when the operator
    /// says development mail is wanted.
    public func requireMailForServing() throws {
        guard smtp == nil, !developmentMail else { return }
        throw StartupError("MASTHEAD_SMTP_URL is not set: set it to send mail, or set MASTHEAD_DEV_MAIL=1 to write mail to \(mailDropDirectory) instead")
    }

    /// Where development mail is written when no SMTP server is configured.
    public var mailDropDirectory: String { (dataDirectory as NSString).appendingPathComponent("mail") }

    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    var publicOrigin: String {
        guard let url = URLComponents(string: publicURL), let scheme = url.scheme, let host = url.host else { return publicURL }
        return url.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }
}
