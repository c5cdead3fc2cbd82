import Testing
@testable import Masthead

@Suite("Settings from the environment")
struct SettingsTests {
    @Test("defaults run the demo on SQLite in ./data")
    func defaults() throws {
        let settings = try Settings.fromEnvironment([:])
        #expect(settings.database == .sqlite(path: "./data/masthead.sqlite"))
        #expect(settings.port == 8080)
        #expect(settings.publicURL == "http://127.0.0.1:8080")
        #expect(settings.editionCodes == ["en", "ar"])
    }

    @Test("a postgres URL selects PostgreSQL")
    func postgres() throws {
        let settings = try Settings.fromEnvironment(["MASTHEAD_DATABASE_URL": "postgres://u:p@db/masthead"])
        #expect(settings.database == .postgres(url: "postgres://u:p@db/masthead"))
        #expect(!settings.database.description.contains(":p@"))
    }

    @Test("billing takes payments through Stripe only with both its keys, in test mode only when asked")
    func billing() throws {
        #expect(!(try Settings.fromEnvironment([:])).billing.takesPayments)
        #expect(try Settings.fromEnvironment(["MASTHEAD_BILLING_TEST_MODE": "1"]).billing.testMode)
        let stripe = try Settings.fromEnvironment([
            "MASTHEAD_STRIPE_SECRET_KEY": "sk_test_1", "MASTHEAD_STRIPE_WEBHOOK_SECRET": "whsec_1", "MASTHEAD_STRIPE_API_BASE": "http://127.0.0.1:9/",
        ]).billing.stripe
        #expect(stripe?.apiBase == "http://127.0.0.1:9")
        let halfSet = #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_STRIPE_SECRET_KEY": "sk_live_1"]) }
        #expect(halfSet?.description.contains("MASTHEAD_STRIPE_WEBHOOK_SECRET") == true)
    }

    @Test("bad values are refused with the variable's name")
    func badValues() {
        #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_PORT": "eighty"]) }
        #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_DATABASE_URL": "mysql://x"]) }
        #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_PUBLIC_URL": "ftp://x"]) }
        let error = #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_PAGE_SIZE": "0"]) }
        #expect(error?.description.contains("MASTHEAD_PAGE_SIZE") == true)
    }

    @Test("the newsroom's time zone and media folder come from the environment, and a wrong zone is named")
    func timeZoneAndMedia() throws {
        let settings = try Settings.fromEnvironment(["MASTHEAD_TIME_ZONE": "Asia/Beirut", "MASTHEAD_MEDIA": "/srv/shared/media"])
        #expect(settings.timeZone.identifier == "Asia/Beirut")
        #expect(settings.mediaDirectory == "/srv/shared/media")
        #expect(try Settings.fromEnvironment([:]).mediaDirectory == "./data/media")
        let error = #expect(throws: SettingsError.self) { try Settings.fromEnvironment(["MASTHEAD_TIME_ZONE": "Beirut"]) }
        #expect(error?.description.contains("MASTHEAD_TIME_ZONE") == true)
    }
}
