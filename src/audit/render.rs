//! Rendering a change for people: a unified diff, a word diff (both coloured for a terminal
//! when asked) and a self-contained side-by-side HTML page.
//!
//! ```
//! use policydiff::audit::render;
//!
//! let words = render::word_diff("We keep logs 90 days.", "We keep logs 180 days.", false);
//! assert_eq!(words, "We keep logs [-90-]{+180+} days.");
//! let unified = render::unified_diff("a\nb\n", "a\nc\n", "v1", "v2", false);
//! assert!(unified.contains("-b\n+c"));
//! ```

use similar::{ChangeTag, TextDiff};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// A unified diff of lines with three lines of context, headed by the two labels; added and
/// removed lines in green and red when `colour`.
pub fn unified_diff(before: &str, after: &str, from: &str, to: &str, colour: bool) -> String {
    let text = TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(from, to)
        .to_string();
    if !colour {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line.chars().next() {
            Some('+') if !line.starts_with("+++") => out.push_str(&format!("{GREEN}{line}{RESET}")),
            Some('-') if !line.starts_with("---") => out.push_str(&format!("{RED}{line}{RESET}")),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The new text with removed words as `[-…-]` and added ones as `{+…+}` (in red and green when
/// `colour`), as `git diff --word-diff` shows them.
pub fn word_diff(before: &str, after: &str, colour: bool) -> String {
    let mut out = String::new();
    for change in TextDiff::from_words(before, after).iter_all_changes() {
        let value = change.value();
        match (change.tag(), colour) {
            (ChangeTag::Equal, _) => out.push_str(value),
            (ChangeTag::Delete, true) => out.push_str(&format!("{RED}[-{value}-]{RESET}")),
            (ChangeTag::Insert, true) => out.push_str(&format!("{GREEN}{{+{value}+}}{RESET}")),
            (ChangeTag::Delete, false) => out.push_str(&format!("[-{value}-]")),
            (ChangeTag::Insert, false) => out.push_str(&format!("{{+{value}+}}")),
        }
    }
    out
}

/// A self-contained HTML page showing a change side by side.
pub fn side_by_side_html(title: &str, before: &str, after: &str) -> String {
    let escape = crate::basics::escape_html;
    let diff = TextDiff::from_lines(before, after);
    let mut rows = String::new();
    for op in diff.ops() {
        for change in diff.iter_inline_changes(op) {
            let mut cell = String::new();
            for (emphasised, value) in change.iter_strings_lossy() {
                if emphasised {
                    cell.push_str(&format!("<mark>{}</mark>", escape(&value)));
                } else {
                    cell.push_str(&escape(&value));
                }
            }
            let row = match change.tag() {
                ChangeTag::Equal => format!("<tr><td>{cell}</td><td>{cell}</td></tr>\n"),
                ChangeTag::Delete => {
                    format!("<tr><td class=\"del\">{cell}</td><td></td></tr>\n")
                }
                ChangeTag::Insert => {
                    format!("<tr><td></td><td class=\"ins\">{cell}</td></tr>\n")
                }
            };
            rows.push_str(&row);
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>body{{font:14px/1.4 sans-serif;margin:1em}}table{{width:100%;border-collapse:collapse;table-layout:fixed}}td{{vertical-align:top;white-space:pre-wrap;padding:2px 6px;border-bottom:1px solid #eee}}.del{{background:#fee}}.ins{{background:#efe}}.del mark{{background:#f99}}.ins mark{{background:#9e9}}</style></head>\n<body><h1>{title}</h1>\n<table>\n<tr><th>Before</th><th>After</th></tr>\n{rows}</table></body></html>\n",
        title = escape(title)
    )
}
