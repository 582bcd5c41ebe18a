//! Rendering a change for people, the one diff renderer of the CLI, the review page and
//! exports: a unified diff, a word diff (both coloured for a terminal when asked), and side by
//! side ([`side_by_side_rows`], which the review page shows, and a self-contained HTML page).
//!
//! ```
//! use policydiff::audit::render;
//!
//! let words = render::word_diff("We keep logs 90 days.", "We keep logs 180 days.", false);
//! assert_eq!(words, "We keep logs [-90-]{+180+} days.");
//! let unified = render::unified_diff("a\nb\n", "a\nc\n", "v1", "v2", false);
//! assert!(unified.contains("-b\n+c"));
//! let rows = render::side_by_side_rows("a\nb\n", "a\nc\n", 1);
//! assert_eq!(rows[1].kind, "changed");
//! assert!(rows[1].new.as_ref().unwrap().segments.iter().any(|s| s.changed && s.text == "c"));
//! ```

use similar::{ChangeTag, TextDiff};

use crate::basics::escape_html;

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

/// A run of text in a side-by-side cell, highlighted when it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// Whether these words changed.
    pub changed: bool,
}

/// One side of a side-by-side row: a line and its number (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The line's number in its version.
    pub number: usize,
    /// Its words, the changed ones marked.
    pub segments: Vec<Segment>,
}

/// One row of a side-by-side diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// `same`, `changed` or `gap` (unchanged lines left out).
    pub kind: &'static str,
    /// The line before (none for an added line or a gap).
    pub old: Option<Cell>,
    /// The line after (none for a removed line or a gap).
    pub new: Option<Cell>,
    /// Ids the page showing the row anchors on it (the review page's quotations); the renderer
    /// leaves it empty.
    pub anchors: Vec<String>,
}

/// The rows of a side-by-side diff, `context` unchanged lines kept around each change: removed
/// and added lines face each other, their words compared pair by pair. The one diff renderer
/// behind the review page and `diff --format html`.
pub fn side_by_side_rows(before: &str, after: &str, context: usize) -> Vec<DiffRow> {
    let diff = TextDiff::from_lines(before, after);
    let mut rows = Vec::new();
    for (index, group) in diff.grouped_ops(context).iter().enumerate() {
        if index > 0 {
            rows.push(DiffRow {
                kind: "gap",
                old: None,
                new: None,
                anchors: Vec::new(),
            });
        }
        for op in group {
            let mut deleted: Vec<(usize, &str)> = Vec::new();
            let mut inserted: Vec<(usize, &str)> = Vec::new();
            for change in diff.iter_changes(op) {
                let text = change.value();
                match change.tag() {
                    ChangeTag::Equal => {
                        let plain = |number: Option<usize>| Cell {
                            number: number.map_or(0, |i| i + 1),
                            segments: vec![Segment {
                                text: text.trim_end_matches('\n').to_string(),
                                changed: false,
                            }],
                        };
                        rows.push(DiffRow {
                            kind: "same",
                            old: Some(plain(change.old_index())),
                            new: Some(plain(change.new_index())),
                            anchors: Vec::new(),
                        });
                    }
                    ChangeTag::Delete => {
                        deleted.push((change.old_index().map_or(0, |i| i + 1), text));
                    }
                    ChangeTag::Insert => {
                        inserted.push((change.new_index().map_or(0, |i| i + 1), text));
                    }
                }
            }
            let pairs = deleted.len().max(inserted.len());
            for index in 0..pairs {
                let old = deleted.get(index).copied();
                let new = inserted.get(index).copied();
                let (old_segments, new_segments) = word_segments(
                    old.map_or("", |(_, text)| text),
                    new.map_or("", |(_, text)| text),
                );
                rows.push(DiffRow {
                    kind: "changed",
                    old: old.map(|(number, _)| Cell {
                        number,
                        segments: old_segments,
                    }),
                    new: new.map(|(number, _)| Cell {
                        number,
                        segments: new_segments,
                    }),
                    anchors: Vec::new(),
                });
            }
        }
    }
    rows
}

/// The words of two lines, each side's changed words marked.
fn word_segments(old: &str, new: &str) -> (Vec<Segment>, Vec<Segment>) {
    let (old, new) = (old.trim_end_matches('\n'), new.trim_end_matches('\n'));
    let diff = TextDiff::from_words(old, new);
    let mut old_segments: Vec<Segment> = Vec::new();
    let mut new_segments: Vec<Segment> = Vec::new();
    let push = |segments: &mut Vec<Segment>, text: &str, changed: bool| match segments.last_mut() {
        Some(last) if last.changed == changed => last.text.push_str(text),
        _ => segments.push(Segment {
            text: text.to_string(),
            changed,
        }),
    };
    for change in diff.iter_all_changes() {
        let text = change.value();
        // Spaces between changed words belong to the change; alone they are not worth a mark.
        let changed = change.tag() != ChangeTag::Equal && !text.trim().is_empty();
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut old_segments, text, false);
                push(&mut new_segments, text, false);
            }
            ChangeTag::Delete => push(&mut old_segments, text, changed),
            ChangeTag::Insert => push(&mut new_segments, text, changed),
        }
    }
    (old_segments, new_segments)
}

/// A self-contained HTML page showing a change side by side: every line, removed and added
/// lines facing each other with their changed words marked.
pub fn side_by_side_html(title: &str, before: &str, after: &str) -> String {
    let cell = |cell: &Option<Cell>, class: &str| -> String {
        let Some(cell) = cell else {
            return "<td></td>".to_string();
        };
        let mut html = String::new();
        for segment in &cell.segments {
            let text = escape_html(&segment.text);
            if segment.changed {
                html.push_str(&format!("<mark>{text}</mark>"));
            } else {
                html.push_str(&text);
            }
        }
        format!("<td{class}>{html}</td>")
    };
    let mut rows = String::new();
    // As much context as either text has lines: every line is shown.
    let every_line = before.lines().count().max(after.lines().count());
    for row in side_by_side_rows(before, after, every_line) {
        let (old_class, new_class) = match row.kind {
            "changed" => (" class=\"del\"", " class=\"ins\""),
            _ => ("", ""),
        };
        rows.push_str(&format!(
            "<tr>{}{}</tr>\n",
            cell(&row.old, old_class),
            cell(&row.new, new_class)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>body{{font:14px/1.4 sans-serif;margin:1em}}table{{width:100%;border-collapse:collapse;table-layout:fixed}}td{{vertical-align:top;white-space:pre-wrap;padding:2px 6px;border-bottom:1px solid #eee}}.del{{background:#fee}}.ins{{background:#efe}}.del mark{{background:#f99}}.ins mark{{background:#9e9}}</style></head>\n<body><h1>{title}</h1>\n<table>\n<tr><th>Before</th><th>After</th></tr>\n{rows}</table></body></html>\n",
        title = escape_html(title)
    )
}
