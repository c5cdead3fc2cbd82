import Foundation

/// An amount in a currency's minor unit, shown the way readers of an edition write it.
struct Money: Sendable, Equatable {
    let minor: Int
    let currency: String

    /// Currencies whose minor unit is not a hundredth (ISO 4217 exponents 0 and 3), as Stripe
    /// lists them; the Gulf's dinars among them.
    private static let zeroDecimal: Set<String> = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
    private static let threeDecimal: Set<String> = ["bhd", "jod", "kwd", "omr", "tnd"]

    var majorUnits: Decimal {
        if Self.zeroDecimal.contains(currency) { return Decimal(minor) }
        return Decimal(minor) / (Self.threeDecimal.contains(currency) ? 1_000 : 100)
    }

    /// "$100", "€9.50": the narrow symbol (a reader of the English edition sees "$100", as the
    /// outlet writes it, not "US$100"), whole amounts without decimals, in the edition's locale.
    func formatted(locale: Locale) -> String {
        let whole = majorUnits == majorUnits.rounded
        return majorUnits.formatted(
            .currency(code: currency.uppercased()).presentation(.narrow).locale(locale).precision(.fractionLength(whole ? 0 : 2))
        )
    }
}

private extension Decimal {
    var rounded: Decimal {
        var value = self, result = Decimal()
        NSDecimalRound(&result, &value, 0, .plain)
        return result
    }
}
