import Fluent
import Foundation

/// Finds uploaded images nothing uses any more: uploads from previews or forms never saved, and
/// images replaced since. An image is in use while an article, an author, the settings or any
/// revision (which may be restored) names it; recent uploads are left alone, since an editor
/// may be about to save the form that holds one.
public struct MediaPruning: Sendable {
    public static let gracePeriod: TimeInterval = 24 * 3600

    let database: any Database
    let directory: String
    let now: Date

    public init(database: any Database, directory: String, now: Date = Date()) {
        self.database = database
        self.directory = directory
        self.now = now
    }

    /// Uploaded files in the media folder that nothing names and that are older than a day.
    public func unusedUploads() async throws -> [String] {
        let used = try await referencedFiles()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return try names.filter { $0.hasPrefix("upload-") && !used.contains($0) }.filter { name in
            let modified = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")[.modificationDate] as? Date
            return (modified ?? now) < now.addingTimeInterval(-Self.gracePeriod)
        }.sorted()
    }

    public func remove(_ names: [String]) throws {
        for name in names where MediaFileName.isValid(name) {
            try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
    }

    private func referencedFiles() async throws -> Set<String> {
        var used = Set<String>()
        used.formUnion(try await Article.query(on: database).field(\.$id).field(\.$imagePath).all().compactMap(\.imagePath))
        used.formUnion(try await Author.query(on: database).field(\.$id).field(\.$photoPath).all().compactMap(\.photoPath))
        if let logo = try await SiteSettingsStore.load(on: database).logoPath { used.insert(logo) }
        for revision in try await ArticleRevision.query(on: database).all() {
            if let path = try revision.draft().image?.path { used.insert(path) }
        }
        return used
    }
}
