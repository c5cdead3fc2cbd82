import Foundation

/// The emails members receive about their account, in the edition they asked from.
struct MemberMail: Sendable {
    let transport: any MailTransport
    let settings: Settings

    func sendLink(token: String, purpose: LoginToken.Purpose, to email: String, name: String, edition: Edition) async throws {
        let prefix = purpose == .signIn ? "mail_signin" : "mail_delete"
        let path = purpose == .signIn ? MemberURL(edition: edition).verifySignIn : MemberURL(edition: edition).confirmDeletion
        let link = "\(settings.publicURL)\(path)?token=\(token)"
        let values = ["site": settings.siteName, "minutes": "15"]
        let subject = edition.text("\(prefix)_subject", values)
        let body = edition.text("\(prefix)_text", values)
        let ignore = edition.text("mail_ignore", values)
        let button = edition.text("\(prefix)_button", values)
        let text = "\(body)\n\n\(link)\n\n\(ignore)\n\n\(settings.siteName)\n\(settings.publicURL)/\n"
        let html = """
        <!DOCTYPE html>
        <html lang="\(edition.code)" dir="\(edition.direction.rawValue)">
        <head><meta charset="utf-8"><title>\(escape(subject))</title></head>
        <body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a;">
        <p>\(escape(body))</p>
        <p><a href="\(escape(link))" style="display: inline-block; padding: 0.6em 1.2em; background: #a3161a; color: #ffffff; text-decoration: none; border-radius: 4px;">\(escape(button))</a></p>
        <p style="font-size: 0.9em; color: #555555;">\(escape(link))</p>
        <p style="font-size: 0.9em; color: #555555;">\(escape(ignore))</p>
        <p style="font-size: 0.9em; color: #555555;">\(escape(settings.siteName))</p>
        </body>
        </html>
        """
        let message = EmailMessage(
            from: settings.mailFrom, to: .init(email: email, name: name.isEmpty ? nil : name),
            subject: subject, text: text, html: html,
            extraHeaders: [("Auto-Submitted", "auto-generated")]
        )
        _ = try await transport.send(message)
    }

    private func escape(_ text: String) -> String {
        HTMLText.escape(text)
    }
}

/// The member pages of an edition, from the same segments the router registers.
struct MemberURL {
    let edition: Edition

    var signIn: String { "\(edition.pathPrefix)/signin" }
    var join: String { "\(edition.pathPrefix)/join" }
    var verifySignIn: String { "\(edition.pathPrefix)/signin/verify" }
    var account: String { "\(edition.pathPrefix)/account" }
    var signOut: String { "\(edition.pathPrefix)/account/signout" }
    var signOutEverywhere: String { "\(edition.pathPrefix)/account/signout-everywhere" }
    var requestDeletion: String { "\(edition.pathPrefix)/account/delete" }
    var confirmDeletion: String { "\(edition.pathPrefix)/account/delete/confirm" }

    func signIn(returningTo path: String) -> String { "\(signIn)?return=\(Self.encode(path))" }
    func join(returningTo path: String) -> String { "\(join)?return=\(Self.encode(path))" }

    static func encode(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~/"))) ?? "/"
    }

    /// Only paths on this site may be returned to, so a crafted link cannot send a reader
    /// elsewhere after signing in (no `//host`, no scheme, no backslash tricks).
    static func safeReturnPath(_ candidate: String?, fallback: String) -> String {
        guard let candidate, candidate.hasPrefix("/"), !candidate.hasPrefix("//"), !candidate.contains("\\"),
              candidate.count <= 500, candidate.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 })
        else { return fallback }
        return candidate
    }
}
