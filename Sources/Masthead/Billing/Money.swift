import Foundation

/// An amount in a currency's minor unit, shown the way readers of an edition write it.
struct Money: Sendable, Equatable {
    let minor: Int
    let currency: String

    /// Currencies whose minor unit is the whole unit (ISO 4217 exponent 0), as Stripe lists them.
    private static let zeroDecimal: Set<String> = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]

    var majorUnits: Decimal {
        Self.zeroDecimal.contains(currency) ? Decimal(minor) : Decimal(minor) / 100
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
