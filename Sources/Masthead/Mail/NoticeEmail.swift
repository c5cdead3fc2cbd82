import Foundation

/// A short transactional email (a sign-in link, a receipt, a warning): paragraphs, perhaps a
/// button with its link written out beneath, and the site's name; as plain text and as HTML in
/// the reader's language and direction. Inline styles only, as mail clients need.
struct NoticeEmail {
    let subject: String
    let paragraphs: [String]
    let button: (label: String, link: String)?
    let footer: [String]
    let lang: String
    let dir: String

    var text: String {
        var parts = paragraphs
        if let button { parts.append(button.link) }
        return (parts + footer).joined(separator: "\n\n") + "\n"
    }

    var html: String {
        let escape = HTMLText.escape
        var body = paragraphs.map { "<p>\(escape($0))</p>" }
        if let button {
            body.append("<p><a href=\"\(escape(button.link))\" style=\"display: inline-block; padding: 0.6em 1.2em; background: #a3161a; color: #ffffff; text-decoration: none; border-radius: 4px;\">\(escape(button.label))</a></p>")
            body.append("<p style=\"font-size: 0.9em; color: #555555;\">\(escape(button.link))</p>")
        }
        body += footer.map { "<p style=\"font-size: 0.9em; color: #555555;\">\(escape($0))</p>" }
        return """
        <!DOCTYPE html>
        <html lang="\(escape(lang))" dir="\(escape(dir))">
        <head><meta charset="utf-8"><title>\(escape(subject))</title></head>
        <body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a;" dir="\(escape(dir))">
        \(body.joined(separator: "\n"))
        </body>
        </html>
        """
    }

    func message(from: EmailMessage.Address, to: EmailMessage.Address) -> EmailMessage {
        EmailMessage(from: from, to: to, subject: subject, text: text, html: html, extraHeaders: [("Auto-Submitted", "auto-generated")])
    }
}
