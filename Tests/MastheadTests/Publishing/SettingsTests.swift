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
