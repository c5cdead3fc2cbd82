import Crypto
import Foundation

/// The key that signs CSRF tokens and links. From `MASTHEAD_SECRET`, or else generated once into
/// the data folder (readable by its owner only), so that restarts keep forms and links valid.
/// Several instances must share it: set `MASTHEAD_SECRET` when running more than one.
enum SiteSecret {
    static func load(_ settings: Settings) throws -> SymmetricKey {
        if let secret = settings.secret {
            guard secret.utf8.count >= 32 else { throw StartupError("MASTHEAD_SECRET must be at least 32 characters") }
            // The example configuration's placeholder is public: a site signing with it could be forged.
            guard !secret.uppercased().contains("CHANGE-ME") else { throw StartupError("MASTHEAD_SECRET is still the example's placeholder: set it to the output of openssl rand -hex 32") }
            return SymmetricKey(data: Data(secret.utf8))
        }
        let path = (settings.dataDirectory as NSString).appendingPathComponent("secret")
        if let existing = FileManager.default.contents(atPath: path), existing.count >= 32 {
            return SymmetricKey(data: existing)
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
}
