import Foundation

/// Where the DKIM key is and what it signs for: `MASTHEAD_DKIM_DOMAIN`,
/// `MASTHEAD_DKIM_SELECTOR` and `MASTHEAD_DKIM_KEY_FILE`, all three or none.
public struct DKIMSettings: Sendable {
    public var domain: String
    public var selector: String
    public var keyFile: String

    public init(domain: String, selector: String, keyFile: String) {
        self.domain = domain
        self.selector = selector
        self.keyFile = keyFile
    }

    static func fromEnvironment(_ environment: [String: String]) throws -> DKIMSettings? {
        let values = ["MASTHEAD_DKIM_DOMAIN", "MASTHEAD_DKIM_SELECTOR", "MASTHEAD_DKIM_KEY_FILE"].map { environment[$0].flatMap { $0.isEmpty ? nil : $0 } }
        if values.allSatisfy({ $0 == nil }) { return nil }
        guard let domain = values[0], let selector = values[1], let keyFile = values[2] else {
            throw SettingsError("MASTHEAD_DKIM_DOMAIN, MASTHEAD_DKIM_SELECTOR and MASTHEAD_DKIM_KEY_FILE are set together or not at all")
        }
        return DKIMSettings(domain: domain.lowercased(), selector: selector, keyFile: keyFile)
    }

    /// The signer, from the key file; a one-line reason when it cannot be read or used.
    func signer() throws -> DKIMSigner {
        guard let pem = FileManager.default.contents(atPath: keyFile).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw StartupError("cannot read the DKIM key file \(keyFile) (MASTHEAD_DKIM_KEY_FILE)")
        }
        do {
            return try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: pem)
        } catch let error as DKIMError {
            throw StartupError("the DKIM key in \(keyFile) cannot sign: \(error.description)")
        }
    }
}
