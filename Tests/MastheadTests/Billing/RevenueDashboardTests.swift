import Fluent
import Foundation
import Testing
@testable import Masthead

/// The revenue dashboard, from the database alone.
@Suite("Revenue dashboard", .serialized)
struct RevenueDashboardTests {
    @Test("an admin sees the demo's paying members and a month of revenue, drawn and tabled", arguments: TestDatabase.available)
    func demoRevenue(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            #expect(try await DemoMembers.loadIfNone(on: site.app.db) == 80)
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let page = try await admin.get("/admin/revenue")
            #expect(page.status == .ok)

            let paying = try await Member.query(on: site.app.db).filter(\.$paidUntil > Date()).count()
            #expect(paying > 20)
            #expect(page.body.contains("<dt>Paying members</dt><dd>\(paying)</dd>"))
            #expect(page.body.contains("<dt>Free members</dt><dd>\(80 - paying)</dd>"))
            let usd = try await Subscription.query(on: site.app.db).filter(\.$currency == "usd").all()
                .filter { RevenueReport.isPaying($0, at: Date()) }.map(RevenueReport.monthlyMinor).reduce(0, +)
            #expect(page.body.contains(Money(minor: usd, currency: "usd").formatted(locale: Locale(identifier: "en_GB"))))
            #expect(HTML.count(of: "svg", in: page.body) == 5)
            #expect(page.body.contains("<title id=\"chart-mrr-title\">Monthly recurring revenue (USD)</title>"))
            #expect(HTML.count(of: "tr", in: page.body) > 5 * 30)

            let yearly = try await admin.get("/admin/revenue?range=12m")
            #expect(yearly.body.contains("aria-current=\"page\">Last 12 months</a>"))
        }
    }

    @Test("in Arabic the dashboard reads right to left, and its charts run from right to left", arguments: [TestDatabase.sqlite])
    func arabicRevenue(database: TestDatabase) async throws {
        try await withSite(on: database) { site in
            _ = try await DemoMembers.loadIfNone(on: site.app.db)
            let (admin, _) = try await Newsroom.signedIn(site, as: .admin)
            let page = try await admin.get("/admin/revenue?lang=ar")
            #expect(page.status == .ok)
            #expect(page.body.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(page.body.contains("<h1>الإيرادات</h1>"))
            #expect(page.body.contains("<dt>الأعضاء الدافعون</dt>"))
            #expect(page.body.contains("aria-current=\"page\">العربية</a>"))
            // The oldest day is drawn at the right and the newest at the left.
            let chart = try #require(HTML.section(of: page.body, from: "<svg class=\"revenue-chart\"", to: "</svg>"))
            let points = try #require(HTML.section(of: chart, from: "points=\"", to: "\""))
            let xs = points.split(separator: " ").compactMap { Double($0.split(separator: ",").first ?? "") }
            #expect(xs.count == 30 && xs.first! > xs.last!)
            #expect(try await admin.get("/admin/revenue?range=12m&lang=ar").body.contains("aria-current=\"page\">آخر 12 شهرًا</a>"))
        }
    }

    @Test("revenue counts a yearly plan as a twelfth a month, leaves out trials, and ends at cancellation")
    func arithmetic() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func subscription(_ status: Subscription.Status, _ amount: Int, _ interval: Plan.Interval, started: TimeInterval, ended: TimeInterval? = nil) -> Subscription {
            let subscription = Subscription()
            subscription.$member.id = UUID()
            subscription.status = status
            subscription.amountMinor = amount
            subscription.currency = "usd"
            subscription.interval = interval
            subscription.createdAt = now.addingTimeInterval(started)
            subscription.currentPeriodEnd = now.addingTimeInterval(86_400 * 300)
            subscription.endedAt = ended.map { now.addingTimeInterval($0) }
            subscription.provider = "stripe"
            return subscription
        }
        let report = RevenueReport.make(
            range: .days30, now: now, currency: "usd", timeZone: .gmt, graceDays: 7,
            subscriptions: [
                subscription(.active, 12_000, .year, started: -86_400 * 40),
                subscription(.active, 1_000, .month, started: -86_400 * 5),
                subscription(.trialing, 1_000, .month, started: -86_400 * 2),
                subscription(.canceled, 1_000, .month, started: -86_400 * 20, ended: -86_400 * 10),
            ],
            grants: [], members: []
        )
        #expect(report.points.count == 30)
        #expect(report.recurringNow["usd"] == 1_000 + 1_000)
        #expect(report.points.last?.paidMembers == 3)
        #expect(report.points.map(\.newSubscriptions).reduce(0, +) == 3)
        #expect(report.points.map(\.cancelledSubscriptions).reduce(0, +) == 1)
        #expect(report.points[15].recurringMinor == 1_000 + 1_000)
    }
}
