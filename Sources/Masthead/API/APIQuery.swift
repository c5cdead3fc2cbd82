import Foundation

/// A request's query string, read strictly: every parameter must be one the operation knows,
/// given once, and well formed, or the client hears exactly what is wrong (400), never a 500.
struct APIQuery {
    /// The key may always ride in the query, for clients that cannot set headers.
    static let keyParameter = "key"

    private let values: [String: String]

    init(_ query: String?, allowed: [String]) throws {
        var values: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw APIError.badParameter(name: String(parts[0].prefix(40)), message: "is not valid percent-encoding")
            }
            guard name == Self.keyParameter || allowed.contains(name) else {
                throw APIError.badParameter(name: String(name.prefix(40)), message: "is not a parameter of this operation; it takes \(allowed.joined(separator: ", "))")
            }
            guard values[name] == nil else { throw APIError.badParameter(name: name, message: "is given more than once") }
            guard !value.isEmpty || name == Self.keyParameter else { throw APIError.badParameter(name: name, message: "has no value") }
            values[name] = value
        }
        self.values = values
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    var key: String? { values[Self.keyParameter].flatMap { $0.isEmpty ? nil : $0 } }

    /// The query without the key, in a fixed order and percent-encoded again: what a cached
    /// answer is filed under. Nil for a question asked in too many ways to be worth keeping:
    /// any instant may follow `since`.
    var cacheKey: String? {
        guard values["since"] == nil else { return nil }
        return values.filter { $0.key != Self.keyParameter }.sorted { $0.key < $1.key }.map { name, value in
            let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return "\(name)=\(name == "fields" ? Set(value.split(separator: ",")).sorted().joined(separator: ",") : encoded)"
        }.joined(separator: "&")
    }

    func string(_ name: String) -> String? {
        values[name]
    }

    func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return fallback }
        // Digits only, without a sign or leading zeros: one way to write each number.
        guard text.utf8.count <= 7, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), text == "0" || !text.hasPrefix("0"),
              let value = Int(text), range.contains(value) else {
            throw APIError.badParameter(name: name, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, of _: Choice.Type) throws -> Choice? where Choice.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = Choice(rawValue: text) else {
            throw APIError.badParameter(name: name, message: "must be one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func slug(_ name: String) throws -> String? {
        guard let text = string(name) else { return nil }
        guard Slug.isValid(text) else { throw APIError.badParameter(name: name, message: "must be a slug: lowercase letters, digits and hyphens") }
        return text
    }

    /// A date (`2026-11-30`, midnight UTC) or a date and time with its zone (`2026-11-30T08:00:00Z`).
    func date(_ name: String) throws -> Date? {
        guard let text = string(name) else { return nil }
        guard let date = RFC3339.date(text) else {
            throw APIError.badParameter(name: name, message: "must be a date (2026-11-30) or a date and time with its zone (2026-11-30T08:00:00Z)")
        }
        return date
    }

    /// The fields asked for, each one the resource has; nil when the client wants them all.
    func fields(of resource: [String]) throws -> Set<String>? {
        guard let text = string("fields") else { return nil }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for name in names where !resource.contains(name) {
            throw APIError.badParameter(name: "fields", message: "`\(name.prefix(40))` is not a field; the fields are \(resource.joined(separator: ", "))")
        }
        return Set(names)
    }
}

/// RFC 3339 dates (`full-date`) and date-times (`date-time`), as JSON Schema's formats name them:
/// fractional seconds, any offset, `T` or `t`; a leap second counts as the second before it.
enum RFC3339 {
    private static let pattern = try! NSRegularExpression(
        pattern: #"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2})))?$"#
    )

    static func date(_ text: String) -> Date? {
        guard text.utf8.count <= 40,
              let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        func number(_ group: Int) -> Int? {
            Range(match.range(at: group), in: text).flatMap { Int(text[$0]) }
        }
        guard let year = number(1), let month = number(2), let day = number(3) else { return nil }
        let hour = number(4) ?? 0, minute = number(5) ?? 0, second = number(6) ?? 0
        var offset = 0
        if let sign = Range(match.range(at: 8), in: text).map({ text[$0] }), let hours = number(9), let minutes = number(10) {
            guard hours <= 23, minutes <= 59 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
        }
        guard (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 60 else { return nil }
        // The offset is applied by hand: RFC 3339 allows offsets (up to ±23:59) that TimeZone does not.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(TimeInterval(-offset))
    }
}
