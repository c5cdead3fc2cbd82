import Foundation
import Testing
@testable import Masthead

/// How words are folded for search, the same for articles and for what readers type.
@Suite("Search normalisation")
struct SearchTextTests {
    static func same(_ spellings: [String]) -> Bool {
        Set(spellings.map(SearchText.tokens)).count == 1 && !SearchText.tokens(spellings[0]).isEmpty
    }

    @Test("Arabic: tashkeel, tatweel, alef and hamza forms, alef maksura, teh marbuta and the article do not matter")
    func arabic() {
        #expect(Self.same(["سُلَيْمَانِي", "سليماني"]))
        #expect(Self.same(["أحمد", "إحمد", "آحمد", "احمد"]))
        #expect(Self.same(["العـــراق", "العراق", "عراق", "والعراق", "بالعراق", "للعراق"]))
        #expect(Self.same(["مستشفى", "مستشفي"]))
        #expect(Self.same(["مدينة", "مدينه"]))
        #expect(Self.same(["مسؤول", "مسوول"]))
        #expect(Self.same(["الحشد الشعبي", "حشد شعبي", "الحَشْد الشَّعْبِيّ"]))
    }

    @Test("Persian: Persian yeh and keheh match their Arabic forms, and the zero-width non-joiner is ignored")
    func persian() {
        #expect(Self.same(["سلیمانی", "سليماني"]))
        #expect(Self.same(["کرکوک", "كركوك"]))
        #expect(Self.same(["کشاورزی", "كشاورزي"]))
        #expect(Self.same(["می‌خواهد", "میخواهد"]))
        #expect(Self.same(["خانهٔ", "خانه"]))
    }

    @Test("Turkish: dotted and dotless i are one letter in either case")
    func turkish() {
        #expect(Self.same(["IRAK", "Irak", "ırak", "irak"]))
        #expect(Self.same(["DİYARBAKIR", "Diyarbakır", "diyarbakir", "DIYARBAKIR"]))
        #expect(Self.same(["İzmir", "izmir", "IZMIR"]))
        #expect(Self.same(["Kasım Süleymani", "kasim suleymani"]))
    }

    @Test("Latin diacritics fold, digits of every script are one, and punctuation separates words")
    func latinAndDigits() {
        #expect(Self.same(["Süleymani", "Suleymani"]))
        #expect(Self.same(["Şanlıurfa", "sanliurfa"]))
        #expect(Self.same(["٢٠٢٦", "۲۰۲۶", "2026"]))
        #expect(SearchText.tokens("Iraq's al-Qaim, \"border\" (2026)") == ["iraq", "s", "al", "qaim", "border", "2026"])
        #expect(SearchText.tokens("Ankara’nın") == ["ankara", "nin"])
    }

    @Test("an article's HTML gives the same words as its text: tags and character references part words and are not words")
    func htmlWords() {
        let html = "<p>Iraq&#39;s <strong>water</strong> &amp; <a href=\"/topics/iraq\">الميَاه</a> in ٢٠٢٦.</p><p>Süleymani&nbsp;said</p>"
        #expect(SearchText.indexable(html: html) == SearchText.indexable("Iraq's water & الميَاه in ٢٠٢٦. Süleymani said"))
        #expect(SearchText.indexable(html: html) == "iraq s water مياه in 2026 suleymani said")
    }

    @Test("a text in indexable form is its words as the index holds them, in order, parted by spaces")
    func indexableIsTheTokens() {
        let texts = [
            "DİYARBAKIR'da Irak ile IŞİD: ılık İstanbul",
            "Qassem Soleimani & the PMF <2026> — Süleymani’s \"Haşdi Şabi\"",
            "الحَشْدُ الشَّعْبِيُّ والعراق ١٤٤٥ هـ",
            "می‌خواهد کشاورزی ایران ۱۴۰۵",
            String(repeating: "a", count: 70) + " " + String(repeating: "é", count: 70),
            "naïve café ßtraße Øresund 🇮🇶 emoji👍 x\u{0301}y e\u{0308}",
            "tab\tnew\nline  ",
        ]
        for text in texts {
            #expect(SearchText.indexable(text) == SearchText.tokens(text).joined(separator: " "), "\(text)")
        }
    }

    @Test("Latin words with diacritics fold the same on the fast path as through full decomposition, letter by letter")
    func latinFastPathMatchesDecomposition() {
        for value in UInt32(0x00C0)...0x024F {
            let word = "a" + String(Unicode.Scalar(value)!) + "b"
            #expect(SearchText.normalize(word: word) == SearchText.decomposedFold(word), "U+\(String(value, radix: 16))")
        }
        for word in ["DİYARBAKIR", "Süleymani", "Haşdi", "Şabi", "anlaşması", "Straße", "Œuvre", "Łódź"] {
            #expect(SearchText.normalize(word: word) == SearchText.decomposedFold(word), "\(word)")
        }
    }

    @Test("Arabic and Persian words fold the same on the fast path as through full decomposition")
    func arabicFastPathMatchesDecomposition() {
        for word in ["أَحْمَد", "إسلام", "آب", "مسؤول", "رئيس", "خانهٔ", "کشاورزی", "می‌خواهد", "العـــراق", "٢٠٢٦", "ۓ"] {
            // A Latin letter sends the word down the general path; its result minus that letter must agree.
            let general = SearchText.normalize(word: "x" + word).map { String($0.dropFirst()) }
            #expect(SearchText.normalize(word: word) == general.map { SearchText.normalize(word: $0) ?? $0 } ?? nil, "\(word)")
        }
    }

    @Test("a query keeps quoted phrases together and lets the last word, still being typed, match as a prefix")
    func queryParsing() throws {
        let query = try SearchQuery("\"Popular Mobilization\" forces hash")
        #expect(query.terms == [.phrase(["popular", "mobilization"]), .word("forces", prefix: false, alternatives: []), .word("hash", prefix: true, alternatives: [])])
        #expect(try SearchQuery("water ").terms == [.word("water", prefix: false, alternatives: [])])
        #expect(try SearchQuery("the region's w").terms == [.word("the", prefix: false, alternatives: []), .word("region", prefix: false, alternatives: []), .word("s", prefix: false, alternatives: [])])
        #expect(try SearchQuery("«الحشد الشعبي»").terms == [.phrase(["حشد", "شعبي"])])
        // Typed with the article and two letters, a word that begins no filed word is on its
        // way to one filed without the article (العراق as عراق); one that does (الله) stays as typed.
        #expect(try SearchQuery("العر").replacingPrefixes(with: ["العر": []]).terms == [.word("عر", prefix: true, alternatives: [])])
        #expect(try SearchQuery("الله").replacingPrefixes(with: ["الله": ["الله", "اللهم"]]).terms == [.word("الله", prefix: false, alternatives: ["اللهم"])])
        #expect(try SearchQuery("zebraf").replacingPrefixes(with: ["zebraf": []]).terms == [.word("zebraf", prefix: true, alternatives: [])])
        #expect(try SearchQuery("  !!! ").isEmpty)
        #expect(throws: SearchError.queryTooLong) { try SearchQuery(String(repeating: "a", count: 201)) }
    }

    @Test("nothing a reader types reaches either database's query syntax except as quoted words")
    func hostileQueries() throws {
        for typed in ["foo\" OR \"bar", "NEAR(a b)", "a:* | !b", "' OR 1=1 --", "title:secret", "^x -y"] {
            let query = try SearchQuery(typed)
            let fts = SQLiteSearchIndex.expression(query)
            let tsquery = PostgresSearchIndex.expression(query)
            for token in query.terms.flatMap({ term -> [String] in
                if case .word(let token, _, _) = term { return [token] }
                if case .phrase(let tokens) = term { return tokens }
                return []
            }) {
                #expect(token.allSatisfy { $0.isLetter || $0.isNumber }, "\(typed) → \(token)")
            }
            #expect(!fts.contains("NEAR("), "\(fts)")
            #expect(!tsquery.contains("!"), "\(tsquery)")
        }
    }

    @Test("a name misspelt by one letter (missing, extra, changed or two swapped) finds the known name; short and known words are left alone")
    func oneTypo() {
        let vocabulary = NameVocabulary(
            topics: [.init(topicID: UUID(), names: [["qassem", "soleimani"], ["suleimani"]])],
            authorNames: [["nour", "sabbagh"]]
        )
        #expect(vocabulary.oneTypoAway(from: "soleimany") == ["soleimani"])
        #expect(vocabulary.oneTypoAway(from: "soleimni") == ["soleimani"])
        #expect(vocabulary.oneTypoAway(from: "soleimaani") == ["soleimani"])
        #expect(vocabulary.oneTypoAway(from: "soelimani") == ["soleimani"])
        #expect(vocabulary.oneTypoAway(from: "sabagh") == ["sabbagh"])
        #expect(vocabulary.oneTypoAway(from: "soleimani").isEmpty)
        #expect(vocabulary.oneTypoAway(from: "nur").isEmpty)
        #expect(vocabulary.oneTypoAway(from: "solimny").isEmpty)
    }

    @Test("a snippet marks the searched words in the passage with most of them, escaped")
    func snippets() throws {
        let text = "Opening words. " + String(repeating: "filler ", count: 60) + "The <b>Tigris</b> releases rose; Tigris flows at the border. " + String(repeating: "more ", count: 40)
        let snippet = SearchSnippet.passage(of: text, marking: try SearchQuery("tigris border"))
        #expect(snippet.hasPrefix("… "))
        #expect(snippet.contains("&lt;b&gt;<mark>Tigris</mark>&lt;/b&gt;"))
        #expect(snippet.contains("<mark>border</mark>"))
        #expect(!snippet.contains("Opening"))
        #expect(SearchSnippet.marked("“Iraq's water”", query: try SearchQuery("water ")) == "“Iraq's <mark>water</mark>”")
    }

    @Test("a snippet is the first passage with every searched term, and a passage with only some of them gives way to one with all")
    func snippetsPreferEveryTerm() throws {
        let filler = String(repeating: "filler ", count: 60)
        let text = "Water rose early. " + filler + "Water at the border, water everywhere, water. " + filler + "Tail."
        let one = SearchSnippet.passage(of: text, marking: try SearchQuery("water "))
        #expect(one.hasPrefix("<mark>Water</mark> rose early."))
        #expect(one.hasSuffix(" …"))
        let both = SearchSnippet.passage(of: text, marking: try SearchQuery("water border "))
        #expect(both.contains("<mark>Water</mark> at the <mark>border</mark>"))
        #expect(!both.contains("rose early"))
    }
}
