import Fluent
import Foundation

/// The demo outlet's newsletters: a daily briefing in English (new members get it), Arabic,
/// Persian and Turkish, a weekly digest of analysis, and breaking-news alerts in English and
/// Arabic, all sent from the site's own address.
enum DemoNewsletters {
    static func insertIfNone(on database: any Database, settings: Settings) async throws {
        guard try await Newsletter.query(on: database).count() == 0 else { return }
        let now = Date()
        let from = settings.mailFrom.email
        let lists = [
            Newsletter(slug: "daily-briefing", name: "The Daily Briefing", description: "The day's news from across the region, every weekday morning.",
                       senderName: "\(settings.siteName) Daily Briefing", senderEmail: from, edition: "en", forNewMembers: true, position: 1, createdAt: now),
            Newsletter(slug: "weekly-analysis", name: "Weekly Analysis", description: "Our analysts' week: the pieces that explain what happened and what comes next, every Friday.",
                       senderName: "\(settings.siteName) Analysis", senderEmail: from, edition: "en", forNewMembers: false, position: 2, createdAt: now),
            Newsletter(slug: "al-nashra-al-yawmiyya", name: "النشرة اليومية", description: "أخبار المنطقة في يومها، صباح كل يوم عمل.",
                       senderName: settings.siteName, senderEmail: from, edition: "ar", forNewMembers: false, position: 3, createdAt: now),
            Newsletter(slug: "khabarnameh-rouzaneh", name: "خبرنامهٔ روزانه", description: "خبرهای روز منطقه، هر صبح در روزهای کاری.",
                       senderName: settings.siteName, senderEmail: from, edition: "fa", forNewMembers: false, position: 4, createdAt: now),
            Newsletter(slug: "gunluk-bulten", name: "Günlük Bülten", description: "Bölgeden günün haberleri, her hafta içi sabah.",
                       senderName: settings.siteName, senderEmail: from, edition: "tr", forNewMembers: false, position: 5, createdAt: now),
            Newsletter(slug: "breaking-news", name: "Breaking News", description: "An email the moment a major story breaks: the headline and a link, nothing more.",
                       senderName: "\(settings.siteName) Breaking News", senderEmail: from, edition: "en", forNewMembers: false, breakingAlerts: true, position: 6, createdAt: now),
            Newsletter(slug: "ajil", name: "عاجل", description: "رسالة لحظة وقوع خبر كبير: العنوان ورابط، لا أكثر.",
                       senderName: settings.siteName, senderEmail: from, edition: "ar", forNewMembers: false, breakingAlerts: true, position: 7, createdAt: now),
        ]
        for list in lists where settings.editionCodes.contains(list.edition) {
            try await list.create(on: database)
        }
    }
}
