/// What a Masthead export holds: the tables an outlet owns, column by column, in an order
/// where every row's references come before it. Documented in docs/export-format.md; a test
/// holds this list to the database's own columns, so a migration cannot add one unnoticed.
enum ExportSchema {
    enum ColumnType: String, Sendable {
        case uuid, text, integer, boolean, timestamp
    }

    struct Column: Sendable {
        let name: String
        let type: ColumnType
    }

    struct Table: Sendable {
        let name: String
        let key: String
        let columns: [Column]
        /// Kept out of the export, and given these values on import: secrets a moved site
        /// should not carry (staff set a new password through the invitation they are sent).
        let withheld: [(column: String, value: String?)]
        /// Columns a later migration added, and the value a row of an older export takes for
        /// each: an outlet can move an old export to a newer Masthead.
        let addedLater: [String: ExportValue]

        init(
            _ name: String, key: String = "id", withheld: [(column: String, value: String?)] = [], _ columns: [(String, ColumnType)],
            addedLater: [String: ExportValue] = [:]
        ) {
            self.name = name
            self.key = key
            self.columns = columns.map { Column(name: $0.0, type: $0.1) }
            self.withheld = withheld
            self.addedLater = addedLater
        }

        var columnNames: [String] { columns.map(\.name) }
        var keyType: ColumnType { columns.first { $0.name == key }?.type ?? .text }
    }

    static let formatName = "masthead-export"
    static let version = 2

    static let tables: [Table] = [
        Table("site_settings", key: "key", [("key", .text), ("value", .text)]),
        Table("staff", withheld: [("password_hash", ""), ("totp_secret", nil), ("totp_last_counter", nil)], [
            ("id", .uuid), ("email", .text), ("name", .text), ("role", .text), ("created_at", .timestamp), ("updated_at", .timestamp),
        ]),
        Table("authors", [
            ("id", .uuid), ("slug", .text), ("name", .text), ("bio", .text), ("bios", .text), ("photo_path", .text), ("created_at", .timestamp),
        ]),
        Table("topics", [("id", .uuid), ("slug", .text), ("kind", .text), ("aliases", .text), ("created_at", .timestamp)]),
        Table("topic_names", [("id", .uuid), ("topic_id", .uuid), ("edition", .text), ("name", .text), ("description", .text)]),
        Table("articles", [
            ("id", .uuid), ("slug", .text), ("edition", .text), ("kind", .text), ("status", .text), ("visibility", .text),
            ("title", .text), ("dek", .text), ("preview_html", .text), ("has_gated_text", .boolean),
            ("published_at", .timestamp), ("content_updated_at", .timestamp),
            ("image_path", .text), ("image_width", .integer), ("image_height", .integer),
            ("image_alt", .text), ("image_caption", .text), ("image_credit", .text),
            ("translation_group", .uuid), ("seo_title", .text), ("seo_description", .text),
            ("created_by", .uuid), ("created_at", .timestamp), ("updated_at", .timestamp), ("comments", .text),
        ], addedLater: ["comments": .text(CommentsChoice.byKind.rawValue)]),
        Table("article_texts", [("id", .uuid), ("article_id", .uuid), ("body_markdown", .text), ("rest_html", .text)]),
        Table("article_authors", [("id", .uuid), ("article_id", .uuid), ("author_id", .uuid), ("position", .integer)]),
        Table("article_topics", [("id", .uuid), ("article_id", .uuid), ("topic_id", .uuid)]),
        Table("article_revisions", [
            ("id", .uuid), ("article_id", .uuid), ("number", .integer), ("staff_name", .text), ("action", .text),
            ("snapshot", .text), ("created_at", .timestamp),
        ]),
        Table("corrections", [("id", .uuid), ("article_id", .uuid), ("note", .text), ("staff_name", .text), ("created_at", .timestamp)]),
        Table("slug_redirects", [("id", .uuid), ("edition", .text), ("slug", .text), ("article_id", .uuid)]),
        Table("audit_events", [("id", .uuid), ("staff_email", .text), ("action", .text), ("subject", .text), ("created_at", .timestamp)]),
        Table("members", [("id", .uuid), ("email", .text), ("name", .text), ("paid_until", .timestamp), ("created_at", .timestamp), ("updated_at", .timestamp)]),
        Table("complimentary_access", [
            ("id", .uuid), ("member_id", .uuid), ("email_domain", .text), ("until", .timestamp), ("note", .text),
            ("granted_by", .text), ("created_at", .timestamp),
        ]),
        Table("plans", [
            ("id", .uuid), ("slug", .text), ("name", .text), ("description", .text), ("translations", .text), ("interval", .text),
            ("trial_days", .integer), ("active", .boolean), ("position", .integer),
        ]),
        Table("plan_prices", [("id", .uuid), ("plan_id", .uuid), ("currency", .text), ("amount_minor", .integer), ("provider_price_id", .text)]),
        Table("checkouts", [
            ("id", .uuid), ("member_id", .uuid), ("price_id", .uuid), ("return_path", .text), ("edition", .text),
            ("provider_session_id", .text), ("created_at", .timestamp), ("completed_at", .timestamp),
        ]),
        Table("subscriptions", [
            ("id", .uuid), ("member_id", .uuid), ("plan_id", .uuid), ("provider", .text), ("provider_subscription_id", .text),
            ("provider_customer_id", .text), ("status", .text), ("amount_minor", .integer), ("currency", .text), ("interval", .text),
            ("current_period_start", .timestamp), ("current_period_end", .timestamp), ("cancel_at_period_end", .boolean),
            ("ended_at", .timestamp), ("state_version", .integer), ("created_at", .timestamp), ("updated_at", .timestamp),
        ]),
        Table("gifts", [
            ("id", .uuid), ("checkout_id", .uuid), ("edition", .text), ("provider", .text), ("giver_email", .text), ("giver_name", .text),
            ("recipient_email", .text), ("recipient_name", .text), ("message", .text), ("plan_name", .text), ("interval", .text),
            ("amount_minor", .integer), ("currency", .text), ("status", .text), ("provider_payment_id", .text),
            ("redeem_token_hash", .text), ("paid_at", .timestamp), ("redeemed_by", .uuid), ("redeemed_at", .timestamp),
            ("access_until", .timestamp), ("created_at", .timestamp),
        ]),
        Table("newsletters", [
            ("id", .uuid), ("slug", .text), ("name", .text), ("description", .text), ("sender_name", .text), ("sender_email", .text),
            ("reply_to", .text), ("edition", .text), ("for_new_members", .boolean), ("active", .boolean), ("position", .integer),
            ("created_at", .timestamp), ("breaking_alerts", .boolean),
        ], addedLater: ["breaking_alerts": .boolean(false)]),
        Table("newsletter_subscriptions", [
            ("id", .uuid), ("newsletter_id", .uuid), ("email", .text), ("name", .text), ("member_id", .uuid), ("status", .text),
            ("source", .text), ("confirm_token_hash", .text), ("created_at", .timestamp), ("confirmed_at", .timestamp),
            ("unsubscribed_at", .timestamp),
        ]),
        Table("newsletter_sends", [
            ("id", .uuid), ("subject", .text), ("intro", .text), ("article_ids", .text), ("newsletter_ids", .text), ("status", .text),
            ("scheduled_at", .timestamp), ("rate_per_second", .integer), ("recipients", .integer), ("created_by", .text),
            ("created_at", .timestamp), ("queued_at", .timestamp), ("finished_at", .timestamp), ("alert", .boolean),
        ], addedLater: ["alert": .boolean(false)]),
        Table("mail_suppressions", [("id", .uuid), ("email", .text), ("reason", .text), ("detail", .text), ("created_at", .timestamp)]),
        Table("legacy_paths", [("id", .uuid), ("path", .text), ("article_id", .uuid)]),
        Table("pages", [
            ("id", .uuid), ("edition", .text), ("slug", .text), ("title", .text), ("markdown", .text), ("html", .text),
            ("published", .boolean), ("created_at", .timestamp), ("updated_at", .timestamp),
        ]),
        Table("legacy_page_paths", [("id", .uuid), ("path", .text), ("page_id", .uuid)]),
        Table("live_stories", key: "article_id", [
            ("article_id", .uuid), ("summary_markdown", .text), ("summary_html", .text), ("started_at", .timestamp), ("ended_at", .timestamp),
            ("version", .integer),
        ]),
        Table("live_updates", [
            ("id", .uuid), ("article_id", .uuid), ("sequence", .integer), ("version", .integer), ("headline", .text), ("markdown", .text),
            ("html", .text), ("key_event", .boolean), ("pinned", .boolean), ("author_name", .text), ("staff_id", .uuid),
            ("created_at", .timestamp), ("updated_at", .timestamp), ("deleted", .boolean),
        ]),
        Table("comments", [
            ("id", .uuid), ("article_id", .uuid), ("parent_id", .uuid), ("member_id", .uuid), ("author_name", .text), ("body", .text),
            ("status", .text), ("badge", .text), ("reports", .integer), ("created_at", .timestamp), ("edited_at", .timestamp),
        ]),
        Table("comment_reports", [("id", .uuid), ("comment_id", .uuid), ("member_id", .uuid), ("created_at", .timestamp)]),
        Table("comment_bans", key: "email", [("email", .text), ("banned_by", .text), ("created_at", .timestamp)]),
        Table("imported_items", [("id", .uuid), ("source", .text), ("source_key", .text), ("target_id", .uuid), ("created_at", .timestamp)]),
    ]

    /// Tables an export leaves out, and why (the documentation repeats these reasons).
    static let leftOut: [String: String] = [
        "_fluent_migrations": "the export names the migrations its rows follow instead",
        "site_state": "counters each site keeps for its own caches",
        "sessions": "readers sign in again on the new site",
        "login_tokens": "sign-in links expire within the hour",
        "staff_sessions": "staff sign in again on the new site",
        "staff_tokens": "invitation and reset links expire",
        "staff_sign_in_attempts": "lockouts belong to the old site",
        "meter_reads": "anonymous reading counts are short-lived and keyed to the old site",
        "billing_events": "Stripe's delivery log, kept by Stripe",
        "outbox": "mail still queued belongs to the old site's server",
        "newsletter_requests": "rate-limit records",
        "newsletter_deliveries": "per-message delivery logs of past sends; the sends themselves are exported",
        "api_integrations": "Content API keys are issued again on the new site",
        "staff_api_tokens": "Admin API tokens are issued again on the new site",
        "search_rebuilds": "the index is rebuilt after an import",
        "job_leases": "background-job leases of the old site's instances",
        "breaking_news": "banners last a day at most; the new site flags its own",
        "push_subscriptions": "browsers subscribe again: each subscription is bound to the old site's push key",
        "push_deliveries": "per-browser delivery logs of past alerts",
        "cdn_purges": "purges queued for the old site's CDN",
        "instances": "the instances that served the old site, seen by their heartbeats",
        "rate_windows": "rate-limit counts of the last few minutes",
    ]

    /// The search index's own tables (FTS5's shadow tables among them): rebuilt, never exported.
    static func isSearchIndex(_ table: String) -> Bool {
        table.hasPrefix("search_")
    }
}
