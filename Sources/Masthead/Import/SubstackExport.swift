import Foundation

/// A Substack export (Settings → Exports), as its ZIP or the folder it unpacks to: `posts.csv`
/// listing the posts, `posts/<id>.<slug>.html` with each one's body, and the email list (one or
/// more CSV files beside `posts.csv`, such as `email_list.<publication>.csv` and the paid
/// subscribers' export with their Stripe customer ids).
struct SubstackExport {
    struct Post {
        /// `123456.the-slug`, as `posts.csv` names it.
        let postID: String
        let date: Date?
        let published: Bool
        /// newsletter, podcast, video, thread or page.
        let type: String
        /// everyone, only_free, only_paid or founding.
        let audience: String
        let title: String
        let subtitle: String
        let podcastURL: String
        let html: String?

        var id: String { String(postID.prefix { $0 != "." }) }
        var slug: String { postID.contains(".") ? String(postID.drop { $0 != "." }.dropFirst()) : "" }
    }

    enum Access: Int, Comparable {
        case free, gift, comp, paid

        static func < (lhs: Access, rhs: Access) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    struct Reader {
        let email: String
        var name: String
        var access: Access
        /// When their paid, gifted or complimentary access ends, as Substack says.
        var expiry: Date?
        /// They asked Substack to send them no email.
        var emailDisabled: Bool
        var stripeCustomer: String?
    }

    let posts: [Post]
    /// In the order the email list first names them, one per address (case aside).
    let readers: [Reader]

    static let postsFile = "posts.csv"
    private static let csvLimit = 512 * 1_048_576
    private static let htmlLimit = 20 * 1_048_576
    private static let totalLimit = 4 * 1_024 * 1_048_576

    static func read(_ path: String) throws -> SubstackExport {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw ImportError("\(path) does not exist") }
        let opened: any SubstackFiles = if isFolder.boolValue { try FolderFiles(path) } else { try ZipFiles(path) }
        // However small the archive, what it inflates to is bounded.
        var budget = totalLimit
        let read = { (name: String, limit: Int) throws -> Data? in
            guard budget > 0 else { throw ImportError("the export holds more than \(totalLimit / 1_073_741_824) GB of posts and lists; nothing was imported") }
            guard let data = try opened.read(name, limit: min(limit, budget)) else { return nil }
            budget -= data.count
            return data
        }
        guard let postsData = try read(postsFile, csvLimit) else {
            throw ImportError("\(path) is not a Substack export: it has no posts.csv")
        }
        let table = try csv(postsData, named: postsFile, maxRows: 200_000)
        for column in ["post_id", "post_date", "is_published", "title"] where !table.columns.contains(column) {
            throw ImportError("posts.csv has no \(column) column: it is not a Substack export")
        }
        var postIDs: Set<String> = []
        let posts = try table.rows.map { row in
            let postID = row["post_id"] ?? ""
            guard postIDs.insert(postID).inserted else { throw ImportError("posts.csv names the post \(postID) twice; nothing was imported") }
            return Post(
                postID: postID, date: date(row["post_date"]), published: row["is_published"]?.lowercased() == "true",
                type: (row["type"] ?? "newsletter").lowercased(), audience: row["audience"]?.lowercased() ?? "",
                title: row["title"] ?? "", subtitle: row["subtitle"] ?? "", podcastURL: row["podcast_url"] ?? "",
                html: isFileName(postID) ? try read("posts/\(postID).html", htmlLimit).map { String(decoding: $0, as: UTF8.self) } : nil
            )
        }
        var readers: [Reader] = []
        var position: [String: Int] = [:]
        let lists = opened.rootFiles.filter { $0.lowercased().hasSuffix(".csv") && $0 != postsFile }.sorted()
        for name in lists.prefix(20) {
            guard let data = try read(name, csvLimit) else { continue }
            let list = try csv(data, named: name, maxRows: max(10_000_000 - readers.count, 0))
            guard list.columns.contains("email") else { continue }
            for row in list.rows {
                let found = reader(row)
                let key = found.email.lowercased()
                guard let index = position[key] else {
                    position[key] = readers.count
                    readers.append(found)
                    continue
                }
                readers[index].merge(found)
            }
        }
        return SubstackExport(posts: posts, readers: readers)
    }

    /// A post id that names its file and nothing outside the posts folder.
    private static func isFileName(_ postID: String) -> Bool {
        !postID.isEmpty && postID.count <= 300 && !postID.hasPrefix(".") && !postID.contains("..")
            && postID.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    private static func csv(_ data: Data, named name: String, maxRows: Int) throws -> CSVTable {
        do {
            return try CSVTable(data, maxRows: maxRows)
        } catch {
            throw ImportError("\(name) \(error.description); nothing was imported")
        }
    }

    private static func reader(_ row: [String: String]) -> Reader {
        let named = (row["type"] ?? row["subscription_type"] ?? row["plan"] ?? "").lowercased()
        let active = row["active_subscription"]?.lowercased() == "true"
        let access: Access = if named.contains("comp") {
            .comp
        } else if named.contains("gift") {
            .gift
        } else if named.isEmpty || named == "free" {
            active && named.isEmpty ? .paid : .free
        } else {
            .paid
        }
        let customer = (row["stripe_connected_customer_id"] ?? row["stripe_customer_id"] ?? "").trimmingCharacters(in: .whitespaces)
        return Reader(
            email: (row["email"] ?? "").trimmingCharacters(in: .whitespaces), name: row["name"] ?? "", access: access,
            expiry: date(row["expiry"]), emailDisabled: row["email_disabled"]?.lowercased() == "true",
            stripeCustomer: customer.isEmpty ? nil : customer
        )
    }

    /// Dates as Substack writes them: `2024-03-07T19:08:42.354Z`.
    static func date(_ text: String?) -> Date? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
    }
}

extension SubstackExport.Reader {
    /// What a second list says of the same reader: the paid subscribers' export knows their
    /// access and Stripe customer, the full email list their name and whether they get email.
    mutating func merge(_ other: Self) {
        if other.access > access {
            access = other.access
            expiry = other.expiry ?? expiry
        }
        if name.isEmpty { name = other.name }
        emailDisabled = emailDisabled || other.emailDisabled
        stripeCustomer = stripeCustomer ?? other.stripeCustomer
        if expiry == nil { expiry = other.expiry }
    }
}

/// The files of an export, whether unpacked into a folder or still in its ZIP.
protocol SubstackFiles {
    /// Names of the files at the export's top level.
    var rootFiles: [String] { get }
    /// A file's bytes by its path in the export, or nil when it has none such.
    func read(_ name: String, limit: Int) throws -> Data?
}

private struct FolderFiles: SubstackFiles {
    let folder: String
    let resolvedFolder: String
    let rootFiles: [String]

    init(_ folder: String) throws {
        self.folder = folder
        resolvedFolder = realpath(folder, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? folder
        rootFiles = try FileManager.default.contentsOfDirectory(atPath: folder)
    }

    func read(_ name: String, limit: Int) throws -> Data? {
        let path = (folder as NSString).appendingPathComponent(name)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        // A linked file, or a linked posts folder, could bring any file of this machine into a published article.
        guard attributes[.type] as? FileAttributeType == .typeRegular,
              let real = realpath(path, nil).map({ pointer in defer { free(pointer) }; return String(cString: pointer) }),
              real == (resolvedFolder as NSString).appendingPathComponent(name)
        else { throw ImportError("\(name) in the export is not a plain file inside it") }
        guard (attributes[.size] as? NSNumber)?.intValue ?? 0 <= limit else { throw ImportError("\(name) in the export is larger than \(limit / 1_048_576) MB") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ImportError("cannot read \(name) in the export") }
        return data
    }
}

private struct ZipFiles: SubstackFiles {
    let archive: ZipArchive
    /// The folder inside the archive that holds posts.csv (ZIPs made by hand often have one).
    let root: String
    let entries: [String: ZipArchive.Entry]
    let rootFiles: [String]

    init(_ path: String) throws {
        do {
            archive = try ZipArchive(path: path)
        } catch let error as ZipArchive.Malformed {
            throw ImportError("\(path) is neither a folder nor a readable ZIP: it \(error.description)")
        }
        let postsEntry = archive.entries.map(\.name).filter { $0 == SubstackExport.postsFile || $0.hasSuffix("/" + SubstackExport.postsFile) }.min { $0.count < $1.count }
        root = postsEntry.map { String($0.dropLast(SubstackExport.postsFile.count)) } ?? ""
        entries = Dictionary(archive.entries.map { ($0.name, $0) }) { first, _ in first }
        let root = root
        rootFiles = archive.entries.map(\.name).filter { $0.hasPrefix(root) && !$0.dropFirst(root.count).contains("/") }.map { String($0.dropFirst(root.count)) }
    }

    func read(_ name: String, limit: Int) throws -> Data? {
        guard let entry = entries[root + name] else { return nil }
        do {
            return try archive.data(of: entry, limit: limit)
        } catch let error as ZipArchive.Malformed {
            throw ImportError("the export \(error.description); nothing was imported")
        }
    }
}

extension SubstackExport {
    /// The posts in the form every importer plans from, with what stays behind said: discussion
    /// threads are not articles, a podcast's audio stays where Substack keeps it (linked).
    func content(siteURL: String, author: String?) -> (content: ImportedContent, notMapped: [String]) {
        var notMapped: [String] = []
        let byline = author.map { ContentPlan.asciiSlug($0, fallback: "author") }
        var imported: [ImportedContent.Post] = []
        for post in posts {
            let label = "post “\(post.title.isEmpty ? post.postID : post.title)”"
            let type: String
            switch post.type {
            case "newsletter", "podcast", "video", "": type = "post"
            case "page": type = "page"
            default:
                notMapped.append("\(label): a Substack \(post.type), not an article, so it was left out")
                continue
            }
            var body = Self.originalImageAddresses(in: post.html ?? "")
            if post.html == nil {
                notMapped.append("\(label): its text (posts/\(post.postID).html) is not in the export; imported with an empty body")
            }
            if let audio = URL(string: post.podcastURL), ["http", "https"].contains(audio.scheme ?? "") {
                body = "<p><a href=\"\(HTMLText.escapeForAttributes(post.podcastURL))\">Listen to the episode</a></p>" + body
            }
            let visibility: Visibility
            switch post.audience {
            case "everyone": visibility = .public
            case "only_free": visibility = .members
            case "only_paid", "founding": visibility = .paid
            default:
                // Whoever Substack let read it, no one who has not paid reads it here until an editor says so.
                visibility = .paid
                notMapped.append("\(label): its audience (\(post.audience.isEmpty ? "none given" : post.audience)) is not one Masthead knows, so it was imported for paying members only")
            }
            imported.append(.init(
                id: post.id, type: type, title: post.title, slug: post.slug, status: post.published ? "publish" : "draft",
                link: siteURL + "/p/" + post.slug, guid: "", creators: byline.map { [$0] } ?? [], content: body, excerpt: HTMLText.escape(post.subtitle),
                dateGMT: post.published ? post.date : nil, localDate: nil, categories: [], tags: [], language: nil, thumbnailID: nil, visibility: visibility
            ))
        }
        let content = ImportedContent(
            platform: "substack", siteURL: siteURL, uploadsMarker: "/public/images/",
            authors: author.map { [.init(login: byline ?? "author", email: "", displayName: $0)] } ?? [],
            categories: [], tags: [], attachments: [:], posts: imported
        )
        return (content, notMapped)
    }

    /// Substack serves images through its resizing CDN, with the stored file's address escaped at
    /// the end (`https://substackcdn.com/image/fetch/w_1456,c_limit/https%3A%2F%2Fsubstack-post-media…`);
    /// the stored address names the file as a copy of the images has it.
    static func originalImageAddresses(in html: String) -> String {
        let prefix = "https://substackcdn.com/image/fetch/"
        guard html.contains(prefix) else { return html }
        var output = ""
        var rest = html[...]
        while let start = rest.range(of: prefix) {
            output += rest[..<start.lowerBound]
            // The address ends where the attribute or a srcset entry does; its options hold commas.
            let address = rest[start.lowerBound...].prefix { !"\"' \n\t<>".contains($0) }
            let original = address.range(of: "/http").flatMap { String(address[address.index(after: $0.lowerBound)...]).removingPercentEncoding }
            output += original.map(HTMLText.escapeForAttributes) ?? String(address)
            rest = rest[address.endIndex...]
        }
        return output + rest
    }
}
