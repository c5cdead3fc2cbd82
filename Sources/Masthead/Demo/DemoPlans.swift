import Fluent

/// The demo outlet's plans: $100 a year, as the reference outlet charges, or $10 a month; in
/// US dollars and euros, so the plans page shows its currency choice; named in Arabic too.
enum DemoPlans {
    static func insertIfNone(on database: any Database) async throws {
        guard try await Plan.query(on: database).count() == 0 else { return }
        let plans: [(Plan, [(String, Int)])] = [
            (Plan(slug: "yearly", name: "Yearly", description: "Everything we publish, billed once a year: two months free compared with paying monthly.", interval: .year, position: 1),
             [("usd", 10_000), ("eur", 9_500)]),
            (Plan(slug: "monthly", name: "Monthly", description: "Everything we publish, billed every month. Cancel at any time.", interval: .month, position: 2),
             [("usd", 1_000), ("eur", 950)]),
        ]
        plans[0].0.translations = [
            "ar": .init(name: "سنوي", description: "كل ما ننشره، بدفعة واحدة في السنة: شهران مجانًا مقارنةً بالدفع الشهري."),
            "fa": .init(name: "سالانه", description: "همهٔ آنچه منتشر می‌کنیم، با یک پرداخت در سال: دو ماه رایگان در مقایسه با پرداخت ماهانه."),
            "tr": .init(name: "Yıllık", description: "Yayımladığımız her şey, yılda tek ödemeyle: aylık ödemeye göre iki ay bedava."),
        ]
        plans[1].0.translations = [
            "ar": .init(name: "شهري", description: "كل ما ننشره، بدفعة كل شهر. يمكنك الإلغاء في أي وقت."),
            "fa": .init(name: "ماهانه", description: "همهٔ آنچه منتشر می‌کنیم، با پرداخت ماهانه. هر زمان بخواهید می‌توانید لغو کنید."),
            "tr": .init(name: "Aylık", description: "Yayımladığımız her şey, her ay ödemeyle. İstediğiniz zaman iptal edebilirsiniz."),
        ]
        for (plan, prices) in plans {
            try await plan.create(on: database)
            for (currency, amount) in prices {
                try await PlanPrice(planID: try plan.requireID(), currency: currency, amountMinor: amount).create(on: database)
            }
        }
    }
}
