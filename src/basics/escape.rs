//! Text made safe for HTML and XML, in text and in quoted attributes alike.

/// `text` with `&`, `<`, `>`, `"` and `'` written as entities (valid in HTML and in XML).
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The text `escape_html` was given back (and `<p>` markup dropped): what a reader of the HTML
/// sees.
pub fn unescape_html(html: &str) -> String {
    html.replace("<p>", "")
        .replace("</p>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_character_is_escaped_and_comes_back() {
        let text = r#"Tom & Jerry's <b>"show"</b>"#;
        let escaped = escape_html(text);
        assert!(!escaped.contains(['<', '>', '"', '\'']));
        assert_eq!(unescape_html(&escaped), text);
    }
}
