import Fluent
import Foundation

/// A discussion under the demo's newest public story in English and in Arabic: members'
/// comments, a reply from the newsroom (marked Staff), one comment a reader reported and one
/// waiting for a moderator, so that the admin's Comments page has something to moderate.
/// Loaded by `masthead demo` only.
public enum DemoComments {
    struct Line {
        let author: String
        let body: String
        var status: Comment.Status = .visible
        var badge: Comment.Badge?
        var reports = 0
        var replies: [Line] = []
    }

    @discardableResult
    public static func loadIfNone(on database: any Database, now: Date = Date()) async throws -> Int {
        guard try await Comment.query(on: database).count() == 0 else { return 0 }
        let threads: [String: [Line]] = [
            "en": [
                Line(author: "Layla Haddad", body: "Does anyone know whether the trucks already on the Syrian side were allowed back? My brother drives this route every week.", replies: [
                    Line(author: "News Desk", body: "Our reporter in al-Qaim says about forty trucks were let through in the evening; the rest are still waiting. We will update the story.", badge: .staff),
                ]),
                Line(author: "Omar Khalil", body: "Third closure in two years. Traders in Anbar cannot plan anything like this.", reports: 1),
                Line(author: "Sam Porter", body: "First time commenting: thanks for the map in the explainer, see https://example.com/anbar-map for an older one.", status: .pending),
            ],
            "ar": [
                Line(author: "كريم منصور", body: "هل من معلومات عن موعد إعادة فتح المعبر أمام الشاحنات التجارية؟", replies: [
                    Line(author: "فريق الأخبار", body: "بحسب مراسلنا، لا موعد رسمياً حتى الآن. سنحدّث الخبر فور إعلان الوزارة.", badge: .staff),
                ]),
                Line(author: "نور الهدى", body: "تغطية دقيقة كالعادة، شكراً لكم."),
            ],
        ]
        return try await database.writeTransaction { db in
            var added = 0
            let live = Set(try await LiveStory.query(on: db).all().compactMap(\.id))
            for (edition, lines) in threads {
                guard let article = try await Article.query(on: db).filter(\.$edition == edition).filter(\.$status == .published)
                    .filter(\.$visibility == .public).sort(\.$publishedAt, .descending).all().first(where: { !live.contains($0.id!) })
                else { continue }
                var minutes = Double(lines.count * 90)
                for line in lines {
                    let parent = try await insert(line, article: try article.requireID(), parent: nil, at: now.addingTimeInterval(-minutes * 60), on: db)
                    added += 1
                    for reply in line.replies {
                        minutes -= 20
                        _ = try await insert(reply, article: try article.requireID(), parent: parent, at: now.addingTimeInterval(-minutes * 60), on: db)
                        added += 1
                    }
                    minutes -= 60
                }
            }
            return added
        }
    }

    private static func insert(_ line: Line, article: UUID, parent: UUID?, at moment: Date, on db: any Database) async throws -> UUID {
        let commenters = try await Member.query(on: db).filter(\.$email =~ "commenter").count()
        let member = try await Member.query(on: db).filter(\.$name == line.author).filter(\.$email =~ "commenter").first()
            ?? Member(email: "commenter\(commenters + 1)@demo.masthead.test", name: line.author)
        if member.id == nil { try await member.create(on: db) }
        let comment = Comment()
        comment.articleID = article
        comment.parentID = parent
        comment.memberID = try member.requireID()
        comment.authorName = line.author
        comment.body = line.body
        comment.status = line.status
        comment.badge = line.badge
        comment.reports = line.reports
        comment.createdAt = moment
        try await comment.create(on: db)
        return try comment.requireID()
    }
}
