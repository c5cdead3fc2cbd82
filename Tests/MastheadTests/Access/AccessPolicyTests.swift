import Foundation
import Testing
@testable import Masthead

@Suite("The access decision")
struct AccessPolicyTests {
    func article(_ visibility: Visibility) -> Article {
        let article = Article(slug: "a", edition: "en", kind: .analysis, status: .published, visibility: visibility, title: "T", dek: "D", publishedAt: Date())
        article.id = UUID()
        return article
    }

    @Test("everyone reads a public article in full", arguments: [Viewer.anonymous, .freeMember, .paidMember])
    func publicArticle(viewer: Viewer) {
        #expect(AccessPolicy.decide(article: article(.public), viewer: viewer, meter: .none).isFull)
    }

    @Test("members-only text is for members")
    func membersArticle() {
        #expect(!AccessPolicy.decide(article: article(.members), viewer: .anonymous, meter: .none).isFull)
        #expect(AccessPolicy.decide(article: article(.members), viewer: .freeMember, meter: .none).isFull)
        #expect(AccessPolicy.decide(article: article(.members), viewer: .paidMember, meter: .none).isFull)
    }

    @Test("paid text is for paying members; others are invited to join or upgrade")
    func paidArticle() {
        guard case .preview(.signInOrJoin) = AccessPolicy.decide(article: article(.paid), viewer: .anonymous, meter: .none) else {
            Issue.record("an anonymous reader must be invited to join"); return
        }
        guard case .preview(.upgrade) = AccessPolicy.decide(article: article(.paid), viewer: .freeMember, meter: .none) else {
            Issue.record("a free member must be invited to upgrade"); return
        }
        #expect(AccessPolicy.decide(article: article(.paid), viewer: .paidMember, meter: .none).isFull)
    }

    @Test("a metered allowance opens paid text")
    func meter() {
        #expect(AccessPolicy.decide(article: article(.paid), viewer: .freeMember, meter: Meter(remaining: 1)).isFull)
    }

    @Test("a grant opens only the article it was issued for")
    func grantIsPerArticle() async throws {
        let paid = article(.paid)
        paid.setBody(markdown: "One.\n\nTwo.\n\nThree.\n\nFour.", previewParagraphs: 1)
        let access = AccessPolicy.decide(article: paid, viewer: .paidMember, meter: .none)
        #expect(access.isFull)
        try await withSite(on: .sqlite, withDemo: false) { site in
            let granted = try await paid.gatedText(for: access, on: site.app.db)
            let refused = try await paid.gatedText(for: AccessPolicy.decide(article: paid, viewer: .anonymous, meter: .none), on: site.app.db)
            #expect(granted?.html.contains("Four.") == true)
            #expect(refused == nil)
        }
    }
}
