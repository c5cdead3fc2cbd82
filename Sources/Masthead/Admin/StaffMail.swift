import Foundation

/// The emails staff receive: an invitation to the admin, and a password reset link.
struct StaffMail: Sendable {
    let transport: any MailTransport
    let settings: Settings

    func sendInvitation(token: String, to staff: Staff, from manager: Staff) async throws {
        try await send(
            to: staff,
            subject: "You are invited to the \(settings.siteName) admin",
            text: "\(manager.name) has invited you to join \(settings.siteName) as \(staff.role.rawValue). Choose your password to start; the link works for 7 days.",
            button: "Choose a password",
            link: settings.publicURL + AdminURL.password(token: token)
        )
    }

    func sendReset(token: String, to staff: Staff) async throws {
        try await send(
            to: staff,
            subject: "Reset your \(settings.siteName) admin password",
            text: "Someone asked to reset the password of your \(settings.siteName) admin account. Choose a new one with this link, which works for one hour. If it was not you, ignore this email; your password stays as it is.",
            button: "Choose a new password",
            link: settings.publicURL + AdminURL.password(token: token)
        )
    }

    private func send(to staff: Staff, subject: String, text: String, button: String, link: String) async throws {
        let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>\(HTMLText.escape(subject))</title></head>
        <body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a;">
        <p>\(HTMLText.escape(text))</p>
        <p><a href="\(HTMLText.escape(link))" style="display: inline-block; padding: 0.6em 1.2em; background: #a3161a; color: #ffffff; text-decoration: none; border-radius: 4px;">\(HTMLText.escape(button))</a></p>
        <p style="font-size: 0.9em; color: #555555;">\(HTMLText.escape(link))</p>
        </body>
        </html>
        """
        let message = EmailMessage(
            from: settings.mailFrom, to: .init(email: staff.email, name: staff.name),
            subject: subject, text: "\(text)\n\n\(link)\n\n\(settings.siteName)\n", html: html,
            extraHeaders: [("Auto-Submitted", "auto-generated")]
        )
        _ = try await transport.send(message)
    }
}

enum HTMLText {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
