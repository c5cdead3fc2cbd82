import Foundation

/// A newsletter issue as an email: a responsive HTML message built of tables with inline styles
/// (as mail clients need; Outlook reads no stylesheet), right to left where the list's language
/// is, images by absolute address, no tracking pixel; and a plain-text part saying the same.
/// Rendered once per list and kind of reader; each recipient's copy differs only in its
/// unsubscribe link, put in place of `unsubscribeMark`.
struct NewsletterEmail: Sendable {
    /// Where each copy's unsubscribe link goes: random per rendering, so no text in an article
    /// can contain it and collect recipients' links.
    let unsubscribeMark = "%%unsubscribe-\(UUID().uuidString)%%"

    /// The rendering cut where each copy's unsubscribe link goes, so a copy is a join, not a search.
    private let htmlParts: [String]
    private let textParts: [String]
    let subject: String
    let newsletter: NewsletterHeader

    /// What each copy of a list's email shares: sender, list identity, where to read it online.
    struct NewsletterHeader: Sendable {
        let name: String
        let slug: String
        let from: EmailMessage.Address
        let replyTo: String?
        let listHost: String
        let viewURL: String
    }

    /// One recipient's copy, with their own unsubscribe link and the RFC 8058 one-click headers.
    func message(to address: EmailMessage.Address, unsubscribeURL: String) -> EmailMessage {
        var headers: [(String, String)] = [
            ("List-Id", "\(MIME.encodedPhrase(newsletter.name)) <\(newsletter.slug).\(newsletter.listHost)>"),
            ("List-Unsubscribe", "<\(unsubscribeURL)>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
        ]
        if let replyTo = newsletter.replyTo { headers.append(("Reply-To", "<\(replyTo)>")) }
        return EmailMessage(
            from: newsletter.from, to: address, subject: subject,
            text: textParts.joined(separator: unsubscribeURL),
            html: htmlParts.joined(separator: HTMLText.escape(unsubscribeURL)),
            extraHeaders: headers
        )
    }

    init(issue: NewsletterIssue, header: NewsletterHeader, siteName: String, publicURL: String) {
        self.subject = issue.subject
        self.newsletter = header
        let edition = issue.edition
        let rtl = edition.direction == .rtl
        let align = rtl ? "right" : "left"
        let escape = HTMLText.escape
        let font = "font-family: Georgia, 'Times New Roman', serif;"
        let sans = "font-family: -apple-system, 'Segoe UI', Tahoma, Arial, sans-serif;"
        var rows: [String] = []
        let values = ["site": siteName, "newsletter": header.name]

        rows.append("""
        <tr><td style="padding: 12px 24px; \(sans) font-size: 13px; color: #666666; text-align: \(align);" align="\(align)"><a href="\(escape(header.viewURL))" style="color: #666666;">\(escape(edition.text("newsletter_view_online")))</a></td></tr>
        <tr><td style="padding: 8px 24px 16px; border-bottom: 3px solid #a3161a; \(font) font-size: 26px; font-weight: bold; color: #1a1a1a; text-align: \(align);" align="\(align)">\(escape(header.name))</td></tr>
        """)
        if !issue.intro.isEmpty {
            let paragraphs = issue.intro.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            rows.append("<tr><td style=\"padding: 20px 24px 0; \(font) font-size: 18px; line-height: 1.6; color: #1a1a1a; text-align: \(align);\" align=\"\(align)\">"
                + paragraphs.map { "<p style=\"margin: 0 0 14px;\">\(escape($0))</p>" }.joined() + "</td></tr>")
        }
        for item in issue.items {
            var cell = ""
            if let image = item.imageURL {
                cell += "<a href=\"\(escape(item.url))\"><img src=\"\(escape(image))\" alt=\"\(escape(item.imageAlt))\" width=\"552\" style=\"display: block; width: 100%; max-width: 552px; height: auto; border: 0;\"></a>"
                if !item.caption.isEmpty && !issue.isDigest {
                    cell += "<p style=\"margin: 6px 0 0; \(sans) font-size: 13px; color: #666666;\">\(escape(item.caption))</p>"
                }
            }
            if let badge = item.badge { cell += "<p style=\"margin: 16px 0 0; \(sans) font-size: 12px; font-weight: bold; text-transform: uppercase; color: #a3161a;\">\(escape(badge))</p>" }
            cell += "<h2 style=\"margin: 12px 0 6px; \(font) font-size: \(issue.isDigest ? 22 : 28)px; line-height: 1.25; color: #1a1a1a;\"><a href=\"\(escape(item.url))\" style=\"color: #1a1a1a; text-decoration: none;\">\(escape(item.title))</a></h2>"
            if !item.dek.isEmpty { cell += "<p style=\"margin: 0 0 8px; \(font) font-size: 18px; line-height: 1.5; color: #444444;\">\(escape(item.dek))</p>" }
            let credit = [item.byline, item.date].filter { !$0.isEmpty }.joined(separator: " · ")
            if !credit.isEmpty { cell += "<p style=\"margin: 0 0 12px; \(sans) font-size: 13px; color: #666666;\">\(escape(credit))</p>" }
            if let body = item.bodyHTML { cell += Self.emailBody(body, publicURL: publicURL, font: font) }
            if let paywall = item.paywall {
                cell += """
                <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin: 8px 0 0; background: #f4efe6; border-top: 3px solid #a3161a;" dir="\(edition.direction.rawValue)"><tr><td style="padding: 20px; \(sans) text-align: \(align);" align="\(align)">
                <p style="margin: 0 0 8px; font-size: 20px; font-weight: bold; color: #1a1a1a;">\(escape(paywall.title))</p>
                <p style="margin: 0 0 8px; font-size: 16px; line-height: 1.5; color: #1a1a1a;">\(escape(paywall.text))</p>
                \(paywall.price.map { "<p style=\"margin: 0 0 12px; font-size: 16px; font-weight: bold; color: #1a1a1a;\">\(escape($0))</p>" } ?? "")
                <p style="margin: 0;"><a href="\(escape(paywall.primary.url))" style="display: inline-block; padding: 10px 18px; background: #a3161a; color: #ffffff; text-decoration: none; border-radius: 4px; font-weight: bold;">\(escape(paywall.primary.label))</a></p>
                </td></tr></table>
                """
            } else if issue.isDigest {
                cell += "<p style=\"margin: 0 0 8px; \(sans) font-size: 15px;\"><a href=\"\(escape(item.url))\" style=\"color: #a3161a; font-weight: bold;\">\(escape(edition.text("newsletter_read_more")))</a></p>"
            }
            rows.append("<tr><td style=\"padding: 20px 24px; border-bottom: 1px solid #e5e0d8; text-align: \(align);\" align=\"\(align)\">\(cell)</td></tr>")
        }
        rows.append("""
        <tr><td style="padding: 20px 24px 28px; \(sans) font-size: 13px; line-height: 1.5; color: #666666; text-align: \(align);" align="\(align)">
        <p style="margin: 0 0 8px;">\(escape(edition.text("newsletter_why", values)))</p>
        <p style="margin: 0 0 8px;"><a href="\(unsubscribeMark)" style="color: #666666;">\(escape(edition.text("newsletter_unsubscribe", values)))</a> · <a href="\(escape(publicURL))/" style="color: #666666;">\(escape(siteName))</a></p>
        </td></tr>
        """)
        let preheader = issue.items.first?.dek ?? issue.intro
        let html = """
        <!DOCTYPE html>
        <html lang="\(escape(edition.code))" dir="\(edition.direction.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="x-apple-disable-message-reformatting">
        <title>\(escape(issue.subject))</title>
        <style>@media (max-width: 620px) { .mh-container { width: 100% !important; } }</style>
        </head>
        <body style="margin: 0; padding: 0; background: #f4f1ea;" dir="\(edition.direction.rawValue)">
        <div style="display: none; max-height: 0; overflow: hidden;">\(escape(preheader))</div>
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background: #f4f1ea;" dir="\(edition.direction.rawValue)"><tr><td align="center" style="padding: 16px 8px;">
        <table role="presentation" class="mh-container" width="600" cellpadding="0" cellspacing="0" border="0" style="width: 600px; max-width: 600px; background: #ffffff;" dir="\(edition.direction.rawValue)">
        \(rows.joined(separator: "\n"))
        </table>
        </td></tr></table>
        </body>
        </html>
        """
        self.htmlParts = html.components(separatedBy: unsubscribeMark)
        self.textParts = Self.plainText(issue: issue, header: header, siteName: siteName, publicURL: publicURL, values: values, unsubscribeMark: unsubscribeMark)
            .components(separatedBy: unsubscribeMark)
    }

    private static func plainText(issue: NewsletterIssue, header: NewsletterHeader, siteName: String, publicURL: String, values: [String: String], unsubscribeMark: String) -> String {
        let edition = issue.edition
        var parts = [header.name, edition.text("newsletter_view_online") + ": " + header.viewURL]
        if !issue.intro.isEmpty { parts.append(issue.intro) }
        for item in issue.items {
            var lines = [item.title.uppercased()]
            if !item.dek.isEmpty { lines.append(item.dek) }
            let credit = [item.byline, item.date].filter { !$0.isEmpty }.joined(separator: " · ")
            if !credit.isEmpty { lines.append(credit) }
            if let body = item.bodyHTML { lines.append(HTMLText.plain(body)) }
            if let paywall = item.paywall {
                lines.append([paywall.title, paywall.text, paywall.price ?? "", paywall.primary.label + ": " + paywall.primary.url].filter { !$0.isEmpty }.joined(separator: "\n"))
            } else {
                lines.append(item.url)
            }
            parts.append(lines.joined(separator: "\n\n"))
        }
        parts.append(edition.text("newsletter_why", values) + "\n" + edition.text("newsletter_unsubscribe", values) + ": " + unsubscribeMark + "\n" + siteName + " " + publicURL + "/")
        return parts.joined(separator: "\n\n-----\n\n") + "\n"
    }

    /// An article body's HTML made fit for mail: inline styles on what Markdown produces (no
    /// stylesheet reaches it), addresses made absolute.
    static func emailBody(_ html: String, publicURL: String, font: String) -> String {
        var body = HTMLText.absoluteLinks(html, publicURL: publicURL)
        let styles: [(String, String)] = [
            ("<p>", "<p style=\"margin: 0 0 16px; \(font) font-size: 18px; line-height: 1.6; color: #1a1a1a;\">"),
            ("<h2>", "<h2 style=\"margin: 24px 0 12px; \(font) font-size: 22px; color: #1a1a1a;\">"),
            ("<h3>", "<h3 style=\"margin: 20px 0 10px; \(font) font-size: 19px; color: #1a1a1a;\">"),
            ("<blockquote>", "<blockquote style=\"margin: 0 0 16px; padding: 0 16px; border-inline-start: 3px solid #a3161a; color: #444444;\">"),
            ("<ul>", "<ul style=\"margin: 0 0 16px; \(font) font-size: 18px; line-height: 1.6;\">"),
            ("<ol>", "<ol style=\"margin: 0 0 16px; \(font) font-size: 18px; line-height: 1.6;\">"),
            ("<img ", "<img style=\"display: block; max-width: 100%; height: auto; border: 0;\" "),
            ("<a href=", "<a style=\"color: #a3161a;\" href="),
        ]
        for (tag, styled) in styles { body = body.replacingOccurrences(of: tag, with: styled) }
        return body
    }
}
