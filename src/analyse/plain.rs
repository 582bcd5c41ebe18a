//! A version's Markdown as the plain words a reader sees: what memos quote.
//!
//! [`plain_text`] renders the Markdown that extraction writes (OTA's turndown dialect) line by
//! line: a link or image becomes its text, emphasis and code markers go, escaped characters
//! are themselves again, HTML tags go (a line break becomes a space), and runs of spaces become
//! one. The rendering is deterministic and local to a line, so a quotation rendered the same
//! way is checked by plain containment: a memo's quotation is verbatim when
//! `plain_text(version).contains(quotation)`.
//!
//! ```
//! use policydiff::analyse::plain_text;
//!
//! let markdown = "We share **your data** with [partners](https://example.com/p) \\_now\\_.<br>Really.";
//! assert_eq!(plain_text(markdown), "We share your data with partners _now_. Really.");
//! ```

/// The plain words of a Markdown text, line by line (lines are kept).
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rendered = String::new();
    for (index, line) in markdown.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        // Most lines are plain words already: nothing to render, no run of spaces.
        let plain = !line
            .bytes()
            .any(|b| matches!(b, b'\\' | b'[' | b'!' | b'_' | b'`' | b'*' | b'<'))
            && !line.contains("  ");
        if plain {
            out.push_str(line);
            continue;
        }
        rendered.clear();
        render_inline(line, &mut rendered);
        push_collapsing_spaces(&rendered, &mut out);
    }
    out
}

/// Appends `text` to `out` with each run of spaces as one.
fn push_collapsing_spaces(text: &str, out: &mut String) {
    let mut previous_space = false;
    for c in text.chars() {
        let space = c == ' ';
        if !(space && previous_space) {
            out.push(c);
        }
        previous_space = space;
    }
}

/// Where the `close` matching the `open` at `at` is: escapes skipped, pairs nested, and for a
/// link destination (`quoted_title`) a `"…"` title skipped.
fn closing(
    chars: &[char],
    at: usize,
    (open, close): (char, char),
    quoted_title: bool,
) -> Option<usize> {
    let mut depth = 0;
    let mut in_title = false;
    let mut i = at;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '"' if quoted_title => in_title = !in_title,
            c if c == open && !in_title => depth += 1,
            c if c == close && !in_title => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn render_inline(text: &str, out: &mut String) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            // An escaped character is itself.
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            // A link or an image: its text.
            '[' | '!' => {
                let open = if c == '!' { i + 1 } else { i };
                let link = (open < chars.len() && chars[open] == '[')
                    .then(|| closing(&chars, open, ('[', ']'), false))
                    .flatten()
                    .filter(|&close| chars.get(close + 1) == Some(&'('))
                    .and_then(|close| {
                        closing(&chars, close + 1, ('(', ')'), true).map(|end| (close, end))
                    });
                match link {
                    Some((close, end)) => {
                        let inner: String = chars[open + 1..close].iter().collect();
                        render_inline(&inner, out);
                        i = end + 1;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            // Emphasis and code markers (literal ones are escaped by the writer).
            '_' | '`' => i += 1,
            '*' if chars.get(i + 1) == Some(&'*') => i += 2,
            // HTML tags: a break is a space, other tags go.
            '<' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/') =>
            {
                match chars[i..].iter().position(|&c| c == '>') {
                    Some(length) => {
                        let tag: String = chars[i..i + length].iter().collect();
                        let name = tag.trim_start_matches(['<', '/']).to_ascii_lowercase();
                        if name.starts_with("br") || name.starts_with('p') {
                            out.push(' ');
                        }
                        i += length + 1;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_emphasis_escapes_and_tags_become_plain_words() {
        assert_eq!(
            plain_text(
                "See [your settings](https://a.example/s?x=(1) \"Settings\") and ![logo](l.png)."
            ),
            "See your settings and logo."
        );
        assert_eq!(
            plain_text("_Effective December 16, 2025_"),
            "Effective December 16, 2025"
        );
        assert_eq!(plain_text("1\\. Under 13 \\* never"), "1. Under 13 * never");
        assert_eq!(plain_text("a `code` b"), "a code b");
        assert_eq!(plain_text("children < 13 and a<b"), "children < 13 and a<b");
        assert_eq!(plain_text("[unclosed link"), "[unclosed link");
        assert_eq!(plain_text("Line one\n\nLine two"), "Line one\n\nLine two");
    }

    #[test]
    fn a_rendered_sentence_is_found_in_the_rendered_version() {
        let version =
            "Intro.\n\nWe share data with [partners](https://p.example). We keep it **90 days**.";
        let sentence = "We keep it **90 days**.";
        assert!(plain_text(version).contains(&plain_text(sentence)));
    }
}
