import Foundation

/// The JSON shape of a theme's `locales/<code>.json`.
struct TranslationFile: Decodable {
    struct EditionInfo: Decodable {
        let name: String
        let direction: Edition.Direction
        let locale: String
        let openGraphLocale: String
        let digits: String?
        let calendars: [String]?
    }

    static let numberingSystems: Set<String> = ["latn", "arab", "arabext"]
    static let calendars: [String: Calendar.Identifier] = [
        "persian": .persian, "islamic-umalqura": .islamicUmmAlQura, "islamic": .islamic, "islamic-civil": .islamicCivil,
    ]

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
        if let digits = file.edition.digits, !numberingSystems.contains(digits) {
            throw ThemeError("translation file \(path) asks for digits '\(digits)'; use one of \(numberingSystems.sorted().joined(separator: ", "))")
        }
        let calendars = try (file.edition.calendars ?? []).map { name in
            guard let calendar = Self.calendars[name] else {
                throw ThemeError("translation file \(path) names calendar '\(name)'; use one of \(Self.calendars.keys.sorted().joined(separator: ", "))")
            }
            return calendar
        }
        return Edition(
            code: code, name: file.edition.name, direction: file.edition.direction,
            locale: file.edition.locale, openGraphLocale: file.edition.openGraphLocale,
            isDefault: isDefault, strings: file.strings, digits: file.edition.digits, calendars: calendars
        )
    }
}

public struct ThemeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
