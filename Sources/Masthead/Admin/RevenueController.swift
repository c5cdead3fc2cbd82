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
        let ranges: [RangeLink]
        let cards: [Card]
        let charts: [Chart]
        let testMode: Bool
    }

    func register(on routes: any RoutesBuilder) {
        routes.get(AdminURL.Segment.revenue) { try await dashboard($0) }
    }

    func dashboard(_ req: Request) async throws -> Response {
        _ = try req.requireStaff(.viewMembers)
        let range = req.query[String.self, at: "range"].flatMap(RevenueReport.Range.init(rawValue:)) ?? .days30
        let now = Date()
        let report = try await RevenueReport.load(range: range, now: now, currency: currency, timeZone: admin.clock.timeZone, rules: billing.rules, on: req.db)
        let english = Locale(identifier: "en_GB")
        let money = { (minor: Double) in Money(minor: Int(minor), currency: currency).formatted(locale: english) }
        let count = { (value: Double) in String(Int(value)) }
        let label = { (date: Date) in
            date.formatted(Date.FormatStyle(date: range == .days30 ? .abbreviated : .omitted, time: .omitted, locale: english, timeZone: admin.clock.timeZone)
                .month(.abbreviated).year(range == .days30 ? .omitted : .twoDigits).day(range == .days30 ? .defaultDigits : .omitted))
        }
        func chart(_ id: String, _ title: String, _ style: RevenueChart.Style, _ format: @escaping (Double) -> String, _ amount: (RevenueReport.Point) -> Int) -> Chart {
            let values = report.points.map { RevenueChart.Value(label: label($0.start), amount: Double(amount($0))) }
            return Chart(
                svg: RevenueChart(id: id, title: title, values: values, style: style, format: format).svg,
                heading: title,
                rows: values.map { Row(period: $0.label, value: format($0.amount)) }
            )
        }
        let latest = report.points.last
        let recurring = report.recurringNow.sorted { $0.key < $1.key }.map { Money(minor: $0.value, currency: $0.key).formatted(locale: english) }
        return try admin.render("admin/revenue", Page(
            layout: admin.layout("Revenue", for: req, current: AdminURL.revenue),
            ranges: RevenueReport.Range.allCases.map { RangeLink(label: $0.label, url: AdminURL.revenue(range: $0.rawValue), current: $0 == range) },
            cards: [
                Card(label: "Paying members", value: String(latest?.paidMembers ?? 0)),
                Card(label: "Free members", value: String(latest?.freeMembers ?? 0)),
                Card(label: "Monthly recurring revenue", value: recurring.isEmpty ? money(0) : recurring.joined(separator: " + ")),
                Card(label: "New subscriptions, \(range.label.lowercased())", value: String(report.points.map(\.newSubscriptions).reduce(0, +))),
                Card(label: "Cancelled, \(range.label.lowercased())", value: String(report.points.map(\.cancelledSubscriptions).reduce(0, +))),
            ],
            charts: [
                chart("chart-paid", "Paying members", .line, count) { $0.paidMembers },
                chart("chart-free", "Free members", .line, count) { $0.freeMembers },
                chart("chart-mrr", "Monthly recurring revenue (\(currency.uppercased()))", .line, money) { $0.recurringMinor },
                chart("chart-new", "New subscriptions", .bars, count) { $0.newSubscriptions },
                chart("chart-cancelled", "Cancelled subscriptions", .bars, count) { $0.cancelledSubscriptions },
            ],
            testMode: billing.isTestMode
        ))
    }
}
