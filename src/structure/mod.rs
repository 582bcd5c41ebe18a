//! A version read as its reader reads it: the stage between `record` and `analyse`.
//!
//! [`Structure::read`] turns a version's Markdown into what a reader sees:
//!
//! - [`Block`]s ([`blocks`]): headings, paragraphs, list items and table rows, each with the
//!   path of headings of its section — the Markdown headings, and the short title lines a
//!   page shows as headings without marking them (a purpose such as "Personalizing Meta
//!   Products" above its rule) — and, for a list item, its lead-in: the line that introduces
//!   the list ("Information categories we use: …", "We don't allow:").
//! - The dates the text states: the date it took effect or was last updated
//!   ([`effective_date`]), and an [`Announcement`] of a change to come, with its date and the
//!   sentence that says what will change ("We'll start using interactions with AIs to
//!   personalize experiences and ads").
//! - Its plain words ([`plain_text`]) and sentences ([`sentences`]), which memos quote.
//!
//! Analysis diffs two structures, memos quote them, and facts read them.
//!
//! ```
//! use policydiff::structure::Structure;
//!
//! let text = "Privacy Policy\n==============\n\nUpdating on Dec 16, 2025\n\n\
//!     We'll start using interactions with AIs to personalize experiences and ads. \
//!     This update goes into effect on December 16, 2025.\n\n\
//!     Effective June 16, 2025\n\nInformation categories we use:\n\n*   Content you create\n";
//! let structure = Structure::read(text);
//! let announcement = structure.announcement.unwrap();
//! assert_eq!(announcement.date, "2025-12-16");
//! assert_eq!(
//!     announcement.news.as_deref(),
//!     Some("We'll start using interactions with AIs to personalize experiences and ads.")
//! );
//! assert_eq!(structure.effective_date.as_deref(), Some("2025-06-16"));
//! let item = structure.blocks.last().unwrap();
//! assert_eq!(item.lead_in.as_deref(), Some("Information categories we use:"));
//! ```

pub mod blocks;
mod dates;
pub mod entities;
mod plain;

pub use blocks::{Block, BlockKind};
pub use dates::{Announcement, announced_change, effective_date, month_number};
pub use plain::plain_text;

/// A version as its reader reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    /// Its blocks, in order, with their sections and lead-ins.
    pub blocks: Vec<Block>,
    /// The date it says it took effect or was last updated (YYYY-MM-DD).
    pub effective_date: Option<String>,
    /// A change to come that it announces.
    pub announcement: Option<Announcement>,
}

impl Structure {
    /// Reads a version's Markdown.
    pub fn read(text: &str) -> Structure {
        Structure {
            blocks: blocks::parse(text),
            effective_date: effective_date(text),
            announcement: announced_change(text),
        }
    }
}

/// Splits a block into sentences (slices of it, so quotes stay verbatim).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b'.' | b'!' | b'?' | b'\n') {
            let mut end = i + 1;
            while end < bytes.len() && matches!(bytes[end], b'"' | b')' | b'\'') {
                end += 1;
            }
            let next_is_break = end >= bytes.len() || bytes[end] == b' ' || bytes[end] == b'\n';
            let after_space = text[end..].trim_start();
            let starts_sentence = after_space.is_empty()
                || after_space.starts_with(|c: char| {
                    c.is_uppercase()
                        || c.is_ascii_digit()
                        || matches!(c, '“' | '"' | '(' | '*' | '#')
                });
            let abbreviation = c == b'.' && ends_with_abbreviation(&text[start..i]);
            if c == b'\n' || (next_is_break && starts_sentence && !abbreviation) {
                let sentence = text[start..end].trim();
                if !sentence.is_empty() {
                    out.push(sentence);
                }
                start = end;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Whether a text ends with an abbreviation whose full stop does not end a sentence: "U.S",
/// "e.g", "Inc", an initial.
fn ends_with_abbreviation(text: &str) -> bool {
    const ABBREVIATIONS: &[&str] = &[
        "inc", "ltd", "co", "corp", "llc", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "art",
        "sec", "para", "approx", "incl", "jr", "sr",
    ];
    let word = text
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '(' | '-' | '/' | '“' | '"'))
        .next()
        .unwrap_or("");
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    (word.contains('.') && letters <= 4)
        || (letters == 1 && word.chars().all(char::is_uppercase))
        || ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_do_not_end_sentences() {
        let text = "We rely on the EU-U.S. Data Privacy Framework. We share data with Meta Platforms Inc. and others (e.g. Threads). Contact J. Smith.";
        assert_eq!(
            sentences(text),
            [
                "We rely on the EU-U.S. Data Privacy Framework.",
                "We share data with Meta Platforms Inc. and others (e.g. Threads).",
                "Contact J. Smith."
            ]
        );
    }

    #[test]
    fn sentences_are_slices() {
        let text = "We collect data. We share it with partners (see below). Contact us.";
        assert_eq!(
            sentences(text),
            [
                "We collect data.",
                "We share it with partners (see below).",
                "Contact us."
            ]
        );
    }
}
