import Fluent
import Foundation
import SQLKit
import Vapor

/// `masthead import wordpress`: a WordPress export into authors, topics (categories and tags),
/// articles with their featured images, and redirects from every old address. Everything is
/// read, converted and checked first; then one transaction writes it all, with a record of
/// each item's origin, so a killed import leaves nothing behind and a rerun creates nothing twice.
public enum WordPressImport {
    public static func run(
        _ app: Application, settings: Settings, file: String, options: ContentImport.Options, now: Date = Date(),
        progress: @escaping @Sendable (ContentImport.Step) -> Void = { _ in }
    ) async throws -> ContentImport.Report {
        guard let data = FileManager.default.contents(atPath: file) else { throw ImportError("cannot read \(file)") }
        return try await ContentImport.run(app, settings: settings, content: try ImportedContent(wordPress: data), options: options, now: now, progress: progress)
    }
}
