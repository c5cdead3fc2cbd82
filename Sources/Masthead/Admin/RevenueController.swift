import Foundation
import Vapor

/// The revenue dashboard: paying and free members, monthly recurring revenue, and new and
/// cancelled subscriptions over the last 30 days or 12 months, as charts and as tables.
struct RevenueController: Sendable {
    let admin: AdminPages
    let billing: Billing
    let currency: String

    struct Card {
        let label: String
        let value: String
    }

    struct Chart {
        let svg: String
        let heading: String
        let rows: [Row]
    }

    struct Row {
        let period: String
        let value: String
    }

    struct RangeLink {
        let label: String
        let url: String
        let current: Bool
    }

    struct Page {
        let layout: AdminPages.Layout
        let title: String
        let rangesLabel: String
        let figuresLabel: String
        let periodLabel: String
        let testModeNotice: String?
        let languages: [RangeLink]
        let languagesLabel: String
        let ranges: [RangeLink]
        let cards: [Card]
        let charts: [Chart]
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.revenue) { try await dashboard($0) }
    }

    /// In English, or in another edition's language (`?lang=ar`): right to left in Arabic, the
    /// charts' time running from right to left, numbers and dates in that language's way.
    func dashboard(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.viewMembers)
        let range = req.query[String.self, at: "range"].flatMap(RevenueReport.Range.init(rawValue:)) ?? .days30
        let edition = req.query[String.self, at: "lang"].flatMap { admin.theme.editions[$0] } ?? admin.theme.editions["en"] ?? admin.theme.editions.defaultEdition
        let rightToLeft = edition.direction == .rtl
        let now = Date()
        let report = try await RevenueReport.load(range: range, now: now, currency: currency, timeZone: admin.clock.timeZone, rules: billing.rules, on: req.db)
        let locale = Locale(identifier: edition.code == "en" ? "en_GB" : edition.locale)
        let money = { (minor: Double) in Money(minor: Int(minor), currency: currency).formatted(locale: locale) }
        let count = { (value: Double) in Int(value).formatted(.number.locale(locale)) }
        let label = { (date: Date) in
            date.formatted(Date.FormatStyle(date: range == .days30 ? .abbreviated : .omitted, time: .omitted, locale: locale, timeZone: admin.clock.timeZone)
                .month(.abbreviated).year(range == .days30 ? .omitted : .twoDigits).day(range == .days30 ? .defaultDigits : .omitted))
        }
        let rangeName = { (range: RevenueReport.Range) in edition.text("revenue_range_\(range.rawValue)") }
        func chart(_ id: String, _ title: String, _ style: RevenueChart.Style, _ format: @escaping (Double) -> String, _ amount: (RevenueReport.Point) -> Int) -> Chart {
            let values = report.points.map { RevenueChart.Value(label: label($0.start), amount: Double(amount($0))) }
            return Chart(
                svg: RevenueChart(id: id, title: title, values: values, style: style, format: format, rightToLeft: rightToLeft) { latest, highest in
                    edition.text("revenue_chart_summary", ["latest": latest, "highest": highest])
                }.svg,
                heading: title,
                rows: values.map { Row(period: $0.label, value: format($0.amount)) }
            )
        }
        let latest = report.points.last
        let recurring = report.recurringNow.sorted { $0.key < $1.key }.map { Money(minor: $0.value, currency: $0.key).formatted(locale: locale) }
        var layout = admin.layout(edition.text("revenue_title"), for: req, current: AdminURL.revenue)
        layout.lang = edition.code
        layout.dir = edition.direction.rawValue
        let inRange = ["range": rangeName(range)]
        return try admin.render("admin/revenue", Page(
            layout: layout,
            title: edition.text("revenue_title"), rangesLabel: edition.text("revenue_period"), figuresLabel: edition.text("revenue_figures"),
            periodLabel: edition.text("revenue_period"), testModeNotice: billing.isTestMode ? edition.text("revenue_test_mode") : nil,
            languages: admin.theme.editions.all.map { RangeLink(label: $0.name, url: AdminURL.revenue(range: range.rawValue, lang: $0.code), current: $0 == edition) },
            languagesLabel: edition.text("revenue_language"),
            ranges: RevenueReport.Range.allCases.map { RangeLink(label: rangeName($0), url: AdminURL.revenue(range: $0.rawValue, lang: edition.code), current: $0 == range) },
            cards: [
                Card(label: edition.text("revenue_paying"), value: count(Double(latest?.paidMembers ?? 0))),
                Card(label: edition.text("revenue_free"), value: count(Double(latest?.freeMembers ?? 0))),
                Card(label: edition.text("revenue_mrr"), value: recurring.isEmpty ? money(0) : recurring.joined(separator: " + ")),
                Card(label: edition.text("revenue_new_in", inRange), value: count(Double(report.points.map(\.newSubscriptions).reduce(0, +)))),
                Card(label: edition.text("revenue_cancelled_in", inRange), value: count(Double(report.points.map(\.cancelledSubscriptions).reduce(0, +)))),
            ],
            charts: [
                chart("chart-paid", edition.text("revenue_paying"), .line, count) { $0.paidMembers },
                chart("chart-free", edition.text("revenue_free"), .line, count) { $0.freeMembers },
                chart("chart-mrr", "\(edition.text("revenue_mrr")) (\(currency.uppercased()))", .line, money) { $0.recurringMinor },
                chart("chart-new", edition.text("revenue_new"), .bars, count) { $0.newSubscriptions },
                chart("chart-cancelled", edition.text("revenue_cancelled"), .bars, count) { $0.cancelledSubscriptions },
            ]
        ))
    }
}
