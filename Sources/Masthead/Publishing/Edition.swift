import Foundation

/// A language edition of the site: its own home page under its own path prefix, its own text
/// direction and its own interface strings. Editions come from the theme's translation files,
/// so adding Turkish or Persian is a file and a setting, not code.
public struct Edition: Sendable, Hashable {
    public enum Direction: String, Sendable, Codable { case ltr, rtl }

    public let code: String
    public let name: String
    public let direction: Direction
    /// A BCP 47 / ICU locale used for dates, e.g. `en_GB`, `ar`.
    public let locale: String
    /// The Open Graph locale, e.g. `en_GB`, `ar_AR`.
    public let openGraphLocale: String
    public let isDefault: Bool
    public let strings: [String: String]
    /// The ICU numbering system for numbers and dates when not the locale's own: `latn`,
    /// `arab` (Arabic-Indic), `arabext` (Extended Arabic-Indic, as Persian writes them).
    public var digits: String? = nil
    /// Calendars whose dates are shown beside the Gregorian one (Solar Hijri, Hijri).
    public var calendars: [Calendar.Identifier] = []

    /// The locale for formatting, with the edition's numbering system.
    public var formattingLocale: Locale {
        Locale(identifier: digits.map { "\(locale)@numbers=\($0)" } ?? locale)
    }

    /// `""` for the default edition, `"/ar"` for the others: every URL of the edition starts with it.
    public var pathPrefix: String { isDefault ? "" : "/\(code)" }

    /// An interface string, with `{name}` placeholders filled in. A missing key shows as itself
    /// so that a gap in a translation file is visible rather than silent.
    public func text(_ key: String, _ values: [String: String] = [:]) -> String {
        var text = strings[key] ?? key
        for (name, value) in values {
            text = text.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return text
    }

    public static func == (lhs: Edition, rhs: Edition) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// The editions a site runs, in the order the outlet listed them; the first is the default.
public struct EditionCatalog: Sendable {
    public let all: [Edition]
    public var defaultEdition: Edition { all[0] }

    public init(editions: [Edition]) {
        precondition(!editions.isEmpty, "a site has at least one edition")
        all = editions
    }

    public subscript(code: String) -> Edition? { all.first { $0.code == code } }

    /// The edition a request path belongs to, by its first segment.
    public func edition(forPath path: String) -> Edition {
        let first = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true).first.map(String.init)
        return all.first { !$0.isDefault && $0.code == first } ?? defaultEdition
    }
}
