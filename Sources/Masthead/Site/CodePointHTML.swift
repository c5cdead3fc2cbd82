import Mustache

/// The escaping every theme template renders `{{value}}` with. Mustache's own HTML escaping
/// compares whole characters, so a `<` or `"` that a combining mark or a prefix such as U+0600
/// joins to its neighbour passes through unescaped: a search for `؀"><meta …>` would write
/// markup into the page. This escapes by code point instead.
struct CodePointHTML: MustacheContentType {
    static let name = "CodePointHTML"

    /// Put before each template's text when it is loaded, so that every template and partial
    /// (each starts with a fresh context) renders with this escaping.
    static let pragma: String = {
        MustacheContentTypes.register(CodePointHTML(), named: name)
        return "{{% CONTENT_TYPE: \(name)}}"
    }()

    func escapeText(_ text: String) -> String {
        HTMLText.escapeForAttributes(text)
    }
}
