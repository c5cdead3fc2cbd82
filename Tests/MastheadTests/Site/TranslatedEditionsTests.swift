import Foundation
import Testing
@testable import Masthead

/// The Persian and Turkish editions, added by translation files and configuration alone, read
/// end to end in their own language, digits and calendars.
@Suite("Persian and Turkish editions")
struct TranslatedEditionsTests {
    /// Words of the English interface that a translated page must not show: every word of the
    /// English translation file that no other file shares, and the English month names.
    static func englishInterfaceWords() throws -> Set<String> {
        func words(_ code: String) throws -> Set<String> {
            let url = TestSettings.repositoryRoot.appendingPathComponent("Themes/default/locales/\(code).json")
            let file = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            let strings = (file?["strings"] as? [String: String] ?? [:]).values.joined(separator: " ")
            let withoutPlaceholders = strings.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: " ", options: .regularExpression)
            return Set(withoutPlaceholders.lowercased().split { !$0.isLetter }.map(String.init).filter { $0.count >= 4 })
        }
        let months = ["january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december"]
        return try words("en").subtracting(words("fa")).subtracting(words("tr")).union(months)
    }

    @Test("every page of the Persian and Turkish editions is in its language, with no English interface word left")
    func noEnglishLeft() async throws {
        let english = try Self.englishInterfaceWords()
        #expect(english.contains("subscribe") || english.contains("newsletters"))
        try await withSite(on: .sqlite, configure: { $0.editionCodes = DemoContent.editions }) { site in
            let pages = try await SiteCrawler.crawl(site)
            var checked = 0
            for (path, page) in pages where (path.hasPrefix("/fa/") || path.hasPrefix("/tr/"))
                && page.headers.first(name: .contentType)?.hasPrefix("text/html") == true {
                checked += 1
                // Names of people, places and the site are the same in every language; the
                // interface around them is not.
                // Scripts are not read; text marked as another language (a list in English on
                // the newsletters page, the edition switch) is that language's, rightly.
                let visible = page.body.replacingOccurrences(of: "(?s)<script[^>]*>.*?</script>", with: " ", options: .regularExpression)
                    .replacingOccurrences(of: #"(?s)<(\w+)[^>]*\slang="(?!fa"|tr")[a-z-]+"[^>]*>.*?</\1>"#, with: " ", options: .regularExpression)
                let text = HTML.text(of: visible).lowercased()
                let found = Set(text.split { !$0.isLetter }.map(String.init)).intersection(english)
                #expect(found.isEmpty, "\(path) shows English: \(found.sorted())")
            }
            #expect(checked > 30)
            let search = try await site.get("/tr/search?q=irak")
            #expect(HTML.text(of: search.body).lowercased().split { !$0.isLetter }.allSatisfy { !english.contains(String($0)) })
        }
    }

    @Test("Persian pages write numbers in Persian digits and dates in the Solar Hijri calendar beside the Gregorian")
    func persianDigitsAndCalendar() async throws {
        try await withSite(on: .sqlite, configure: { $0.editionCodes = DemoContent.editions }) { site in
            let home = try await site.get("/fa/")
            #expect(home.body.contains("lang=\"fa\" dir=\"rtl\""))
            let dates = HTML.text(of: home.body.replacingOccurrences(of: "(?s)<script[^>]*>.*?</script>", with: " ", options: .regularExpression))
            #expect(dates.contains("۲۰۲۶"))
            #expect(dates.contains("۱۴۰۵"), "no Solar Hijri year on the Persian home page")
            #expect(!dates.contains("2026"))
            let turkish = try await site.get("/tr/")
            #expect(HTML.text(of: turkish.body).contains("2026"))
        }
    }

    @Test("the edition switch goes to the same story in another edition when it exists, and to that edition's home otherwise")
    func editionSwitch() async throws {
        try await withSite(on: .sqlite, configure: { $0.editionCodes = DemoContent.editions }) { site in
            let translated = try await site.get("/fa/articles/irans-winter-energy-squeeze-fa")
            let switchLinks = HTML.attributeValues("href", of: "a", in: translated.body.components(separatedBy: "class=\"edition-switch\"").last ?? "")
            #expect(switchLinks.contains("/articles/irans-winter-energy-squeeze"))
            #expect(switchLinks.contains("/tr/"))
            #expect(translated.body.contains("hreflang=\"en\" href=\"https://news.example/articles/irans-winter-energy-squeeze\""))
            let original = try await site.get("/fa/articles/tehran-dams-record-low-night-water-cuts-fa")
            let originalLinks = HTML.attributeValues("href", of: "a", in: original.body.components(separatedBy: "class=\"edition-switch\"").last ?? "")
            #expect(originalLinks.contains("/") && originalLinks.contains("/ar/"))
        }
    }
}
