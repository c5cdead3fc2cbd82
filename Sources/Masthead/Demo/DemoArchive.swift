import Fluent
import Foundation

/// A synthetic archive for measuring Masthead at an established outlet's size: articles in every
/// demo edition, made of the demo's own paragraphs, titles and names in new combinations, over
/// ten years, with the demo's mix of kinds and visibilities. Never for a real site: the text is
/// shuffled journalism and says nothing.
public enum DemoArchive {
    public static let batchSize = 1000

    /// Adds `count` published articles (after the demo, which it loads if the database is empty),
    /// a transaction per batch; `progress` hears `(done, count)` after each. Same seed, same archive.
    @discardableResult
    public static func generate(
        count: Int, seed: UInt64 = 2026, on database: any Database, settings: Settings,
        progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Int {
        guard settings.smtp == nil, settings.billing.stripe == nil else {
            throw StartupError("this site sends mail or takes payments: a synthetic archive is only ever added to a benchmark's database")
        }
        guard try await ArticleRevision.query(on: database).filter(\.$staffName != DemoContent.importer).count() == 0 else {
            throw StartupError("this database holds articles written by people: a synthetic archive is only ever added to the demo's")
        }
        try await DemoContent.loadIfEmpty(on: database, settings: settings)
        let content = try DemoContent.read()
        let editions = settings.editionCodes.filter { code in content.articles.contains { $0.edition == code } }
        guard !editions.isEmpty else { throw StartupError("the demo has no articles in the configured editions") }
        let sources = Dictionary(grouping: content.articles.filter { editions.contains($0.edition) }, by: \.edition)
        let authorIDs = try await Author.query(on: database).all().compactMap(\.id)
        let topicIDs = try await Topic.query(on: database).all().compactMap(\.id)
        var random = SplitMix64(seed: seed)
        // English most, as at a regional outlet publishing mainly in English.
        let weights = editions.map { $0 == "en" ? 5 : $0 == "ar" ? 3 : 1 }
        let newest = Date(timeIntervalSince1970: 1_795_000_000)
        var done = 0
        while done < count {
            let size = min(batchSize, count - done)
            var articles: [Article] = []
            var texts: [ArticleText] = []
            var credits: [ArticleAuthor] = []
            var filings: [ArticleTopic] = []
            for index in done..<(done + size) {
                let edition = editions[random.weighted(weights)]
                let pool = sources[edition] ?? []
                let model = pool[random.below(pool.count)]
                let paragraphs = (0..<(4 + random.below(9))).flatMap { _ in
                    pool[random.below(pool.count)].body.components(separatedBy: "\n\n").filter { !$0.contains("paywall") }.shuffled(using: &random).prefix(1)
                }
                let titleWords = (0..<(6 + random.below(5))).map { _ in
                    let words = pool[random.below(pool.count)].title.split(separator: " ")
                    return String(words[random.below(words.count)])
                }
                let visibility: Visibility = [.public, .public, .public, .members, .paid][random.below(5)]
                let id = UUID()
                let article = Article(
                    slug: "archive-\(index)", edition: edition, kind: ArticleKind.allCases[random.below(ArticleKind.allCases.count)],
                    status: .published, visibility: visibility, title: titleWords.joined(separator: " "), dek: model.dek,
                    publishedAt: newest.addingTimeInterval(-Double(random.below(10 * 365 * 86_400)))
                )
                article.id = id
                article.imageAlt = model.image.alt
                article.imageCaption = model.image.caption
                article.imageCredit = model.image.credit
                article.setBody(markdown: paragraphs.joined(separator: "\n\n"), previewParagraphs: settings.previewParagraphs)
                articles.append(article)
                texts.append(ArticleText(articleID: id, bodyMarkdown: article.unsavedText?.markdown ?? "", restHTML: article.unsavedText?.restHTML ?? ""))
                credits.append(ArticleAuthor(articleID: id, authorID: authorIDs[random.below(authorIDs.count)], position: 0))
                for topicID in Set((0..<(1 + random.below(3))).map { _ in topicIDs[random.below(topicIDs.count)] }) {
                    filings.append(ArticleTopic(articleID: id, topicID: topicID))
                }
            }
            try await database.writeTransaction { [articles, texts, credits, filings] db in
                try await articles.create(on: db)
                try await texts.create(on: db)
                try await credits.create(on: db)
                try await filings.create(on: db)
            }
            done += size
            progress(done, count)
        }
        try await ContentGeneration.bump(on: database, purging: .everything)
        return done
    }
}

/// A small, seeded generator, so that every run builds the same archive.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    mutating func weighted(_ weights: [Int]) -> Int {
        var pick = below(weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            if pick < weight { return index }
            pick -= weight
        }
        return weights.count - 1
    }
}
