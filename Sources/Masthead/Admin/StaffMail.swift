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
        let notice = NoticeEmail(subject: subject, paragraphs: [text], button: (button, link), footer: [settings.siteName], lang: "en", dir: "ltr")
        _ = try await transport.send(notice.message(from: settings.mailFrom, to: .init(email: staff.email, name: staff.name)))
    }
}
