import Foundation
import Vapor

/// A Substack export holds no images: they stay where Substack stores them. Before the posts
/// are converted, each image they show is fetched from there (Substack's own hosts only, no
/// redirects followed, at most 10 MB each) into a scratch folder, which the import then reads
/// as a copy of the images, so every image comes to live on the outlet's own server.
struct SubstackImages {
    struct Source: Sendable {
        let hosts: Set<String>
        let schemes: Set<String>
        /// Older publications keep images in buckets named `bucketeer-<uuid>`.
        let bucketPrefix: String?

        static let substack = Source(hosts: ["substack-post-media.s3.amazonaws.com"], schemes: ["https"], bucketPrefix: "bucketeer-")

        func allows(_ url: URL) -> Bool {
            guard let host = url.host?.lowercased(), schemes.contains(url.scheme?.lowercased() ?? "") else { return false }
            if hosts.contains(host) { return true }
            guard let bucketPrefix, host.hasPrefix(bucketPrefix), host.hasSuffix(".s3.amazonaws.com") else { return false }
            return host.dropLast(".s3.amazonaws.com".count).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    static let marker = "/public/images/"
    private static let concurrentFetches = 4

    /// The images the posts show (each once), by the file name their address ends in.
    static func wanted(in posts: [ImportedContent.Post], from source: Source) -> [String: URL] {
        var wanted: [String: URL] = [:]
        for post in posts {
            for element in HTMLNodes.elements(in: HTMLNodes.parse(post.content)) {
                for address in [element.attributes["src"], element.name == "a" ? element.attributes["href"] : nil].compactMap({ $0 }) {
                    guard let url = URL(string: address), source.allows(url), let name = fileName(of: url) else { continue }
                    wanted[name] = wanted[name] ?? url
                }
            }
        }
        return wanted
    }

    /// The single file name after `/public/images/`, when it is one a folder can hold safely.
    static func fileName(of url: URL) -> String? {
        let path = url.path
        guard let range = path.range(of: marker) else { return nil }
        let name = String(path[range.upperBound...])
        guard !name.isEmpty, name.count <= 200, !name.hasPrefix("."),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }),
              ["jpg", "jpeg", "png", "webp"].contains((name as NSString).pathExtension.lowercased())
        else { return nil }
        return name
    }

    /// Fetches every wanted image into `folder`; why any could not be, by file name.
    static func fetch(
        _ wanted: [String: URL], into folder: String, client: any Client, progress: @escaping @Sendable (ContentImport.Step) -> Void
    ) async -> [String: String] {
        let items = wanted.sorted { $0.key < $1.key }
        guard !items.isEmpty else { return [:] }
        progress(.fetchingImages(done: 0, total: items.count))
        return await withTaskGroup(of: (String, String?).self) { group in
            var problems: [String: String] = [:]
            var next = 0
            var done = 0
            func start() {
                guard next < items.count else { return }
                let (name, url) = items[next]
                next += 1
                group.addTask { (name, await fetch(url, to: (folder as NSString).appendingPathComponent(name), client: client)) }
            }
            for _ in 0..<concurrentFetches { start() }
            while let outcome = await group.next() {
                problems[outcome.0] = outcome.1
                done += 1
                progress(.fetchingImages(done: done, total: items.count))
                start()
            }
            return problems
        }
    }

    private static func fetch(_ url: URL, to path: String, client: any Client) async -> String? {
        do {
            let response = try await client.get(URI(string: url.absoluteString)) { request in
                request.timeout = .seconds(60)
            }
            guard response.status == .ok else { return "could not be fetched from Substack (HTTP \(response.status.code))" }
            guard let body = response.body, body.readableBytes <= MediaLibrary.maximumBytes else { return "is empty or larger than 10 MB at Substack" }
            try Data(buffer: body).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
            return nil
        } catch {
            return "could not be fetched from Substack (\(error))"
        }
    }
}
