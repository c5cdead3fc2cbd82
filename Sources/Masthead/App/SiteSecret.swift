import Crypto
import Foundation

/// The key that signs CSRF tokens and links. From `MASTHEAD_SECRET`, or else generated once into
/// the data folder (readable by its owner only), so that restarts keep forms and links valid.
/// Several instances must share it: set `MASTHEAD_SECRET` when running more than one.
enum SiteSecret {
    static func load(_ settings: Settings) throws -> SymmetricKey {
        if let existing = try read(settings) { return existing }
        let path = file(settings)
        // One that cannot be read (another user's, or damaged) is never replaced: every session
        // and signed link of the site would end with it.
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StartupError("cannot read the signing key \(path) (is it this user's, and whole?)")
        }
        let secret = Data(SecretToken.generate().utf8)
        do {
            try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: secret, attributes: [.posixPermissions: 0o600]) else {
                throw StartupError("cannot write \(path)")
            }
        } catch {
            throw StartupError("cannot create the signing key in \(settings.dataDirectory): set MASTHEAD_SECRET or make the folder writable")
        }
        return SymmetricKey(data: secret)
    }

    /// The key if there is one, from `MASTHEAD_SECRET` or the data folder; never writes.
    static func read(_ settings: Settings) throws -> SymmetricKey? {
        if let secret = settings.secret {
            guard secret.utf8.count >= 32 else { throw StartupError("MASTHEAD_SECRET must be at least 32 characters") }
            guard !isGuessable(secret) else {
                throw StartupError("MASTHEAD_SECRET is the example's placeholder or too simple: set it to the output of openssl rand -hex 32")
            }
            return SymmetricKey(data: Data(secret.utf8))
        }
        guard let existing = FileManager.default.contents(atPath: file(settings)), existing.count >= 32 else { return nil }
        return SymmetricKey(data: existing)
    }

    /// The example configuration's placeholders are public, with or without their first words,
    /// and a run of a few characters is guessed: a site signing with either could be forged.
    static func isGuessable(_ value: String) -> Bool {
        let lowered = value.lowercased()
        return lowered.contains("change-me") || lowered.contains("openssl-rand") || Set(value).count < 8
    }

    static func file(_ settings: Settings) -> String {
        (settings.dataDirectory as NSString).appendingPathComponent("secret")
    }
}
