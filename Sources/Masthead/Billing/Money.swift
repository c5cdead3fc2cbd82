import Foundation

/// An amount in a currency's minor unit, shown the way readers of an edition write it.
struct Money: Sendable, Equatable {
    let minor: Int
    let currency: String

    /// Currencies whose minor unit is not a hundredth (ISO 4217 exponents 0 and 3), as Stripe
    /// lists them; the Gulf's dinars among them.
    private static let zeroDecimal: Set<String> = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
    private static let threeDecimal: Set<String> = ["bhd", "jod", "kwd", "omr", "tnd"]

    /// Digits after the decimal point in this currency's amounts.
    var exponent: Int {
        Self.zeroDecimal.contains(currency) ? 0 : Self.threeDecimal.contains(currency) ? 3 : 2
    }

    /// An amount as staff type it ("100", "9.50"), in minor units; nil for anything else
    /// (a negative, more decimals than the currency has, more than a million).
    static func parse(_ text: String, currency: String) -> Int? {
        let exponent = Money(minor: 0, currency: currency).exponent
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int(parts[0]), whole >= 0, whole < 1_000_000, parts[0].allSatisfy(\.isASCII) else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= exponent, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let scale = Int(pow(10, Double(exponent)))
        return whole * scale + (Int(fraction.padding(toLength: exponent, withPad: "0", startingAt: 0)) ?? 0)
    }

    /// The amount as a form shows it back: "100", "9.50".
    var plain: String {
        let scale = Int(pow(10, Double(exponent)))
        guard exponent > 0, minor % scale != 0 else { return String(minor / scale) }
        let fraction = String(minor % scale)
        return "\(minor / scale).\(String(repeating: "0", count: exponent - fraction.count))\(fraction)"
    }

    var majorUnits: Decimal {
        if Self.zeroDecimal.contains(currency) { return Decimal(minor) }
        return Decimal(minor) / (Self.threeDecimal.contains(currency) ? 1_000 : 100)
    }

    /// "$100", "€9.50": the narrow symbol (a reader of the English edition sees "$100", as the
    /// outlet writes it, not "US$100"), whole amounts without decimals, in the edition's locale.
    func formatted(locale: Locale) -> String {
        let whole = majorUnits == majorUnits.rounded
        let text = majorUnits.formatted(
            .currency(code: currency.uppercased()).presentation(.narrow).locale(locale).precision(.fractionLength(whole ? 0 : 2))
        )
        // Right to left, "100 US$" ends in a "$" that takes the paragraph's direction and is
        // drawn before the "US" ("$US 100"); a left-to-right mark after it keeps "US$" whole.
        let rightToLeft = Locale.Language(identifier: locale.identifier).characterDirection == .rightToLeft
        return rightToLeft && text.unicodeScalars.contains(where: { $0.isASCII && $0.properties.isAlphabetic }) ? text + "\u{200E}" : text
    }
}

private extension Decimal {
    var rounded: Decimal {
        var value = self, result = Decimal()
        NSDecimalRound(&result, &value, 0, .plain)
        return result
    }
}
