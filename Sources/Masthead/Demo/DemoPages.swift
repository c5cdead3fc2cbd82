import Fluent
import Foundation

/// The demo outlet's "About us" page, in each edition the site runs.
enum DemoPages {
    private static let about: [String: (title: String, markdown: String)] = [
        "en": ("About us", """
        We are an independent newsroom covering Iraq, Syria, Iran, Turkey and the Gulf, around the clock: news as it breaks, \
        analyses and memos that explain it, and reports that go deeper.

        ## How we work

        Our reporters and editors live in the region. We correct our mistakes openly, at the foot of each article, and we say \
        who wrote every piece.

        ## How we are funded

        By our members, who pay $100 a year. Membership keeps our journalism independent of governments and advertisers.
        """),
        "ar": ("من نحن", """
        نحن غرفة أخبار مستقلة تغطي العراق وسوريا وإيران وتركيا والخليج على مدار الساعة: الأخبار لحظة وقوعها، وتحليلات \
        ومذكرات تشرحها، وتقارير تتعمق فيها.

        ## كيف نعمل

        يعيش مراسلونا ومحررونا في المنطقة. نصحح أخطاءنا علنًا في أسفل كل مقال، ونذكر كاتب كل مادة.

        ## كيف نموَّل

        من أعضائنا الذين يدفعون 100 دولار في السنة. العضوية تبقي صحافتنا مستقلة عن الحكومات والمعلنين.
        """),
        "fa": ("دربارهٔ ما", """
        ما یک اتاق خبر مستقل هستیم که عراق، سوریه، ایران، ترکیه و خلیج فارس را شبانه‌روز پوشش می‌دهد: خبر در لحظهٔ وقوع، \
        تحلیل‌ها و یادداشت‌هایی که آن را توضیح می‌دهند، و گزارش‌هایی که عمیق‌تر می‌روند.

        ## چگونه کار می‌کنیم

        خبرنگاران و ویراستاران ما در منطقه زندگی می‌کنند. خطاهایمان را آشکارا، در پایان هر مقاله، اصلاح می‌کنیم و نویسندهٔ هر مطلب را نام می‌بریم.

        ## هزینه‌هایمان از کجا می‌آید

        از اعضایمان که سالانه ۱۰۰ دلار می‌پردازند. عضویت روزنامه‌نگاری ما را از دولت‌ها و آگهی‌دهندگان مستقل نگه می‌دارد.
        """),
        "tr": ("Hakkımızda", """
        Irak, Suriye, İran, Türkiye ve Körfez'i gece gündüz izleyen bağımsız bir haber merkeziyiz: gelişen haberler, onları \
        açıklayan analizler ve notlar, daha derine inen raporlar.

        ## Nasıl çalışıyoruz

        Muhabirlerimiz ve editörlerimiz bölgede yaşıyor. Hatalarımızı her yazının sonunda açıkça düzeltiyor, her yazının kimin \
        olduğunu söylüyoruz.

        ## Nasıl finanse ediliyoruz

        Yılda 100 dolar ödeyen üyelerimizle. Üyelik, gazeteciliğimizi hükümetlerden ve reklamverenlerden bağımsız tutuyor.
        """),
    ]

    static func insertIfNone(on database: any Database, settings: Settings, now: Date = Date()) async throws {
        guard try await Page.query(on: database).count() == 0 else { return }
        for edition in settings.editionCodes {
            guard let page = about[edition] else { continue }
            try await Page(edition: edition, slug: "about", title: page.title, markdown: page.markdown, published: true, at: now).create(on: database)
        }
    }
}
