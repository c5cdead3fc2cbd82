import Foundation

/// Images of the old WordPress site found in a copy of its `wp-content/uploads`, stored as
/// Masthead stores uploads (JPEG, PNG or WebP, metadata removed, named by their content) as
/// soon as they are found, each file once however often posts show it. A dry run only checks.
final class UploadedImages: @unchecked Sendable {
    // Used by one import at a time, on one task.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    private let folder: String?
    private let marker: String
    private let resolvedFolder: String?
    private let library: MediaLibrary?
    private var loaded: [String: Result<ArticleDraft.Image, Problem>] = [:]
    /// The images the current post shows, each once however often its body names it.
    private var postImagePaths: Set<String> = []
    var postImages: Int { postImagePaths.count }
    private(set) var postProblems: [(address: String, problem: Problem)] = []

    private let missing: [String: String]

    init(folder: String?, marker: String, missing: [String: String] = [:], writingTo library: MediaLibrary?) {
        self.folder = folder
        self.marker = marker
        self.missing = missing
        self.library = library
        resolvedFolder = folder.flatMap { path in realpath(path, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } }
    }

    func startPost() {
        postImagePaths = []
        postProblems = []
    }

    /// The stored copy of an image a body shows, when its address is the old site's uploads.
    func local(_ address: String) -> ArticleDraft.Image? {
        guard folder != nil, address.contains(marker) else { return nil }
        switch load(address) {
        case .success(let image):
            postImagePaths.insert(image.path)
            return image
        case .failure(let problem):
            postProblems.append((address, problem))
            return nil
        }
    }

    func load(_ address: String) -> Result<ArticleDraft.Image, Problem> {
        guard let folder, let resolvedFolder else { return .failure(Problem(description: "was not copied (give --media-dir)")) }
        let path = address.components(separatedBy: marker).last?.split(separator: "?").first.map(String.init) ?? ""
        let decoded = path.removingPercentEncoding ?? path
        if let earlier = loaded[decoded] { return earlier }
        let result = read(decoded, in: folder, resolved: resolvedFolder)
        loaded[decoded] = result
        return result
    }

    private func read(_ relative: String, in folder: String, resolved: String) -> Result<ArticleDraft.Image, Problem> {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return .failure(Problem(description: "has an address outside the uploads folder"))
        }
        let file = (folder as NSString).appendingPathComponent(relative)
        // Through a linked folder, a post could publish any image on this machine.
        guard let real = realpath(file, nil).map({ pointer in defer { free(pointer) }; return String(cString: pointer) }) else {
            return .failure(Problem(description: missing[relative] ?? "is not in \(folder)"))
        }
        guard real.hasPrefix(resolved + "/") else { return .failure(Problem(description: "leads outside \(folder)")) }
        var status = stat()
        guard stat(real, &status) == 0, status.st_size <= MediaLibrary.maximumBytes else {
            return .failure(Problem(description: "is larger than 10 MB"))
        }
        do {
            var bytes = Data()
            _ = try MediaCopy.read(real) { bytes.append($0) }
            let prepared = try MediaLibrary.prepare(bytes)
            try library?.write(prepared.data, as: prepared.image.path)
            return .success(prepared.image)
        } catch let problem as MediaLibrary.Problem {
            return .failure(Problem(description: "could not be imported (\(problem.description))"))
        } catch {
            return .failure(Problem(description: "could not be read"))
        }
    }
}
