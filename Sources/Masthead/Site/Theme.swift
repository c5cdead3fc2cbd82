import Crypto
import Foundation
import Mustache
import NIOCore

/// A theme folder loaded into memory: Mustache templates, translation files and static assets.
///
/// Assets are served under fingerprinted names (`site.3f9a1c2b7d.css`) so browsers may cache them
/// for a year; a changed file gets a new name, and pages are rendered with the new one.
public struct Theme: Sendable {
    public let directory: String
    public let editions: EditionCatalog
    let library: MustacheLibrary
    let assets: [String: PreparedBody]
    private let assetPaths: [String: String]

    public static func load(directory: String, editionCodes: [String]) throws -> Theme {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ThemeError("theme folder \(directory) not found (run from the repository root, or set MASTHEAD_THEME)")
        }
        let library: MustacheLibrary
        do {
            library = MustacheLibrary(templates: try Self.loadTemplates(in: "\(directory)/templates"))
        } catch {
            throw ThemeError("theme templates in \(directory)/templates could not be read: \(error)")
        }
        for required in ["home", "article", "listing", "error"] where library.getTemplate(named: required) == nil {
            throw ThemeError("theme \(directory) has no templates/\(required).mustache")
        }
        let editions = try editionCodes.enumerated().map { index, code in
            try TranslationFile.load(code: code, themeDirectory: directory, isDefault: index == 0)
        }
        var assets: [String: PreparedBody] = [:]
        var assetPaths: [String: String] = [:]
        let assetDirectory = "\(directory)/assets"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: assetDirectory)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(assetDirectory)/\(name)"),
                  let contentType = MediaType.forFileName(name) else { continue }
            let fingerprint = SHA256.hash(data: data).prefix(5).map { String(format: "%02x", $0) }.joined()
            let ext = (name as NSString).pathExtension
            let servedName = "\((name as NSString).deletingPathExtension).\(fingerprint).\(ext)"
            assets[servedName] = PreparedBody(bytes: ByteBuffer(bytes: data), contentType: contentType)
            assetPaths[name] = "/assets/\(servedName)"
        }
        return Theme(
            directory: directory, editions: EditionCatalog(editions: editions),
            library: library, assets: assets, assetPaths: assetPaths
        )
    }

    /// The fingerprinted URL path of an asset, by its file name in the theme's `assets` folder.
    public func assetPath(_ name: String) -> String {
        assetPaths[name] ?? "/assets/\(name)"
    }

    public func render(_ template: String, _ model: Any) throws -> String {
        guard let html = library.render(model, withTemplate: template) else {
            throw ThemeError("theme has no template '\(template)'")
        }
        return html
    }

    private static func loadTemplates(in directory: String) throws -> [String: MustacheTemplate] {
        var templates: [String: MustacheTemplate] = [:]
        guard let names = FileManager.default.enumerator(atPath: directory) else { return [:] }
        for case let name as String in names where name.hasSuffix(".mustache") {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
                  let text = String(data: data, encoding: .utf8) else {
                throw ThemeError("\(directory)/\(name) is not readable UTF-8")
            }
            templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: CodePointHTML.pragma + text)
        }
        return templates
    }
}

enum MediaType {
    static func forFileName(_ name: String) -> String? {
        switch (name as NSString).pathExtension.lowercased() {
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        default: nil
        }
    }
}
