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
        let notice = NoticeEmail(
            subject: subject, paragraphs: [body], button: (button, link),
            footer: [ignore, settings.siteName, settings.publicURL + "/"],
            lang: edition.code, dir: edition.direction.rawValue
        )
        _ = try await transport.send(notice.message(from: settings.mailFrom, to: .init(email: email, name: name.isEmpty ? nil : name)))
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
