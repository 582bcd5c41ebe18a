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
//! use policydiff::structure::plain_text;
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
    // Copied in runs: everything up to a space that follows a space.
    let mut run = 0;
    for (at, &byte) in text.as_bytes().iter().enumerate() {
        let space = byte == b' ';
        if space && previous_space {
            out.push_str(&text[run..at]);
            run = at + 1;
        }
        previous_space = space;
    }
    out.push_str(&text[run..]);
}

/// Where the `close` matching the `open` at `at` is: escapes skipped, pairs nested, and for a
/// link destination (`quoted_title`) a `"…"` title skipped. (Bytes: every character looked for
/// is ASCII, and no byte of a longer character is.)
fn closing(bytes: &[u8], at: usize, (open, close): (u8, u8), quoted_title: bool) -> Option<usize> {
    let mut depth = 0;
    let mut in_title = false;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' if quoted_title => in_title = !in_title,
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

/// Renders one line's inline Markdown into `out`. The text between markup is copied in runs;
/// every markup character is ASCII, so a run always starts and ends between characters.
fn render_inline(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Where the run of text copied as it is began.
    let mut run = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            // An escaped character is itself.
            b'\\' if bytes.get(i + 1).is_some_and(u8::is_ascii_punctuation) => {
                out.push_str(&text[run..i]);
                out.push(char::from(bytes[i + 1]));
                i += 2;
                run = i;
            }
            // A link or an image: its text.
            b'[' | b'!' => {
                let open = if byte == b'!' { i + 1 } else { i };
                let link = (bytes.get(open) == Some(&b'['))
                    .then(|| closing(bytes, open, (b'[', b']'), false))
                    .flatten()
                    .filter(|&close| bytes.get(close + 1) == Some(&b'('))
                    .and_then(|close| {
                        closing(bytes, close + 1, (b'(', b')'), true).map(|end| (close, end))
                    });
                match link {
                    Some((close, end)) => {
                        out.push_str(&text[run..i]);
                        render_inline(&text[open + 1..close], out);
                        i = end + 1;
                        run = i;
                    }
                    None => i += 1,
                }
            }
            // Emphasis and code markers (literal ones are escaped by the writer).
            b'_' | b'`' => {
                out.push_str(&text[run..i]);
                i += 1;
                run = i;
            }
            b'*' if bytes.get(i + 1) == Some(&b'*') => {
                out.push_str(&text[run..i]);
                i += 2;
                run = i;
            }
            // HTML tags: a break is a space, other tags go.
            b'<' if bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == b'/') =>
            {
                match bytes[i..].iter().position(|&c| c == b'>') {
                    Some(length) => {
                        out.push_str(&text[run..i]);
                        let name = text[i..i + length]
                            .trim_start_matches(['<', '/'])
                            .to_ascii_lowercase();
                        if name.starts_with("br") || name.starts_with('p') {
                            out.push(' ');
                        }
                        i += length + 1;
                        run = i;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[run..]);
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
