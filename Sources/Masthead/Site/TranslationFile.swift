import Foundation

/// The JSON shape of a theme's `locales/<code>.json`.
struct TranslationFile: Decodable {
    struct EditionInfo: Decodable {
        let name: String
        let direction: Edition.Direction
        let locale: String
        let openGraphLocale: String
    }

    let edition: EditionInfo
    let strings: [String: String]

    static func load(code: String, themeDirectory: String, isDefault: Bool) throws -> Edition {
        let path = "\(themeDirectory)/locales/\(code).json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ThemeError("edition '\(code)' has no translation file at \(path)")
        }
        let file: TranslationFile
        do {
            file = try JSONDecoder().decode(TranslationFile.self, from: data)
        } catch {
            throw ThemeError("translation file \(path) is not valid: \(error)")
        }
        return Edition(
            code: code, name: file.edition.name, direction: file.edition.direction,
            locale: file.edition.locale, openGraphLocale: file.edition.openGraphLocale,
            isDefault: isDefault, strings: file.strings
        )
    }
}

public struct ThemeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
