import Foundation

/// The words a row files besides its text, which say what it is rather than what it says: its
/// edition, kind, part and visibility, topics, authors and article, and one word for each
/// audience that may match it (its scope). Both databases file them beside the row's words,
/// so that the full-text index itself applies a search's filters and audience, instead of
/// the table being read for every match of a common word.
enum SearchFacets {
    /// A row's facets, each once.
    static func words(of document: SearchDocument, part: SearchDocument.Part) -> [String] {
        [word("edition", document.edition), word("kind", document.kind.rawValue), word(part.rawValue, document.visibility.rawValue)]
            + document.topicIDs.map { word("topic", $0.uuidString) }
            + document.authorIDs.map { word("author", $0.uuidString) } + [word("article", document.articleID.uuidString)]
            + scopes(of: document, part: part)
    }

    /// What a row in scope must have: one word of each group. `scoped` names the audience,
    /// edition and kind together by their scope word, one short list to narrow by; otherwise
    /// by the older words every row has, each a list most rows are in (for rows filed before
    /// scope words existed).
    static func required(_ scope: SearchScope, scoped: Bool) -> [[String]] {
        var required: [[String]] = []
        if scoped {
            required.append([scopeWord(readable: scope.audience.readable, edition: scope.filters.edition, kind: scope.filters.kind)])
        }
        if !scoped || scope.filters.visibility != nil {
            required.append(scope.readableRows.map { word($0.part.rawValue, $0.visibility.rawValue) })
        }
        if !scoped, let edition = scope.filters.edition { required.append([word("edition", edition)]) }
        if !scoped, let kind = scope.filters.kind { required.append([word("kind", kind.rawValue)]) }
        if let topicID = scope.filters.topicID { required.append([word("topic", topicID.uuidString)]) }
        if let authorID = scope.filters.authorID { required.append([word("author", authorID.uuidString)]) }
        if let articleID = scope.filters.articleID { required.append([word("article", articleID.uuidString)]) }
        return required
    }

    /// The month and the year a row was published in (UTC): PostgreSQL looks for the newest
    /// matches a few months at a time, and a GIN index finds rows holding both a common word
    /// and a rare one by stepping through the rare one's rows.
    static func periods(of date: Date) -> [String] {
        let (year, month) = yearAndMonth(date)
        return [monthWord(year: year, month: month), "year\(year)"]
    }

    /// Words of which every row published from `start` through `end` holds one: whole years
    /// as their year, the months of the others. None (nil) for a span too long for them to
    /// narrow anything.
    static func periods(from start: Date, through end: Date) -> [String]? {
        let first = yearAndMonth(start), last = yearAndMonth(end)
        guard last.year - first.year <= maximumYears, (first.year, first.month) <= (last.year, last.month) else { return nil }
        var words: [String] = []
        for year in first.year...last.year {
            let months = (year == first.year ? first.month : 1)...(year == last.year ? last.month : 12)
            words += months.count == 12 ? ["year\(year)"] : months.map { monthWord(year: year, month: $0) }
        }
        return words
    }

    /// Years spanned beyond which the periods are left out: rare matches in a long span are
    /// found as fast without them, and the query stays short.
    private static let maximumYears = 12

    private static func yearAndMonth(_ date: Date) -> (year: Int, month: Int) {
        let parts = utc.dateComponents([.year, .month], from: date)
        return (parts.year ?? 1970, parts.month ?? 1)
    }

    private static func monthWord(year: Int, month: Int) -> String {
        "month\(year)" + (month < 10 ? "0" : "") + "\(month)"
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// What each audience may read outright: readers signed out, free and paying, and staff.
    private static let audiences: [Set<Visibility>] = [SearchAudience.reader(.anonymous), .reader(.freeMember), .reader(.paidMember), .staff]
        .map(\.readable).reduce(into: []) { sets, readable in if !sets.contains(readable) { sets.append(readable) } }

    /// A row's scope words: for each audience that matches this row (the whole text when it
    /// may read the visibility, else the preview), one word for each of its edition or any,
    /// and its kind or any.
    private static func scopes(of document: SearchDocument, part: SearchDocument.Part) -> [String] {
        audiences.filter { readable in readable.contains(document.visibility) == (part == .full) }.flatMap { readable in
            [document.edition, nil].flatMap { edition in
                [document.kind, nil].map { kind in scopeWord(readable: readable, edition: edition, kind: kind) }
            }
        }
    }

    /// `scope`, the visibilities read, `x`, the edition or `0` for any, `x`, the kind or `0`:
    /// no visibility or kind holds an x, and no edition code or kind is a digit, so no two
    /// scopes share a word.
    private static func scopeWord(readable: Set<Visibility>, edition: String?, kind: ArticleKind?) -> String {
        word("scope", readable.map(\.rawValue).sorted().joined() + "x" + (edition ?? "0") + "x" + (kind?.rawValue ?? "0"))
    }

    /// One word: the name and the value's letters and digits, lowercased (as FTS5 folds them).
    private static func word(_ name: String, _ value: String) -> String {
        name + String(value.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.map(Character.init))
    }
}
