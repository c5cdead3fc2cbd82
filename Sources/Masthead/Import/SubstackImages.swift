import AsyncHTTPClient
import Foundation
import NIOCore

/// A Substack export holds no images: they stay where Substack stores them. Before the posts
/// are converted, each image they show is fetched from there (Substack's own bucket only, no
/// redirects followed, at most 10 MB each, read no further) into a scratch folder, which the
/// import then reads as a copy of the images, so every image comes to live on the outlet's server.
struct SubstackImages {
    struct Source: Sendable {
        let host: String
        let scheme: String
        /// Nil for the scheme's own port.
        let port: Int?

        static let substack = Source(host: "substack-post-media.s3.amazonaws.com", scheme: "https", port: nil)

        /// Where to fetch an image a post shows, when it is one of Substack's. Older posts name
        /// buckets of Substack's former host (`bucketeer-<uuid>.s3.amazonaws.com`), whose files
        /// Substack's own bucket serves under the same path; anyone can name a bucket so, so
        /// those are fetched from Substack's bucket, never from the one named.
        func fetchAddress(for url: URL) -> URL? {
            guard let host = url.host?.lowercased(), url.scheme?.lowercased() == scheme else { return nil }
            let isLegacy = self.host == Self.substack.host && host.hasPrefix("bucketeer-") && host.hasSuffix(".s3.amazonaws.com")
            guard (host == self.host && url.port == port) || (isLegacy && url.port == nil) else { return nil }
            var components = URLComponents()
            components.scheme = scheme
            components.host = self.host
            components.port = port
            components.percentEncodedPath = url.path(percentEncoded: true)
            return components.url
        }
    }

    static let marker = "/public/images/"
    private static let concurrentFetches = 4

    /// The images the posts show (each once), by the file name their address ends in, with where to fetch each.
    static func wanted(in posts: [ImportedContent.Post], from source: Source) -> [String: URL] {
        var wanted: [String: URL] = [:]
        for post in posts {
            for element in HTMLNodes.elements(in: HTMLNodes.parse(post.content)) {
                for address in [element.attributes["src"], element.name == "a" ? element.attributes["href"] : nil].compactMap({ $0 }) {
                    guard let url = URL(string: address), let fetched = source.fetchAddress(for: url), let name = fileName(of: url) else { continue }
                    wanted[name] = wanted[name] ?? fetched
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
        _ wanted: [String: URL], into folder: String, client: HTTPClient, progress: @escaping @Sendable (ContentImport.Step) -> Void
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

    private static func fetch(_ url: URL, to path: String, client: HTTPClient) async -> String? {
        do {
            let request = try HTTPClient.Request(url: url.absoluteString)
            // The body is refused the moment it grows past the limit, not once it has all arrived.
            let accumulator = ResponseAccumulator(request: request, maxBodySize: MediaLibrary.maximumBytes)
            let response = try await client.execute(request: request, delegate: accumulator, deadline: .now() + .seconds(60)).futureResult.get()
            guard response.status == .ok else { return "could not be fetched from Substack (HTTP \(response.status.code))" }
            guard let body = response.body, body.readableBytes > 0 else { return "is empty at Substack" }
            try Data(buffer: body).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
            return nil
        } catch is ResponseAccumulator.ResponseTooBigError {
            return "is larger than 10 MB at Substack"
        } catch {
            return "could not be fetched from Substack (\(error))"
        }
    }
}
