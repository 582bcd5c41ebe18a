//! Writing a memo's sentences: quotations (verbatim, each kept with its side), the sentence a
//! change touched, and the clause that tells one change ("now says", "no longer says", "changed
//! … to …").

use super::{Claim, MAX_QUOTE_CHARS, Quote, Side};
use crate::analyse::{BlockChange, Change, Taxonomy, plain_text, sentences};

/// The start of `text` within `max` characters, cut at a clause boundary (`;`, `:`, `,`, a
/// dash) when one falls in the second half, else at the last space.
pub(super) fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        None => text,
        Some((cut, _)) => {
            let head = &text[..cut];
            let clause = ["; ", ": ", ", ", " – ", " — "]
                .iter()
                .filter_map(|mark| head.rfind(mark))
                .max()
                .filter(|&at| at >= cut / 2);
            match clause {
                Some(at) => &head[..at],
                None => head.rfind(' ').map_or(head, |space| &head[..space]),
            }
        }
    }
}

/// The longest start of `text`, cut between words, that `within` holds.
pub(super) fn longest_held_start<'t>(text: &'t str, within: &str) -> &'t str {
    let mut end = text.len();
    loop {
        let head = text[..end].trim_end();
        if head.is_empty() || within.contains(head) {
            return head;
        }
        match head.rfind(' ') {
            Some(space) => end = space,
            None => return "",
        }
    }
}

/// Writes a memo's sentences, keeping every quotation it makes with the version it is from.
pub(super) struct Writer<'a> {
    /// The quotations made so far, in the order the memo makes them.
    pub(super) quotes: Vec<Quote>,
    pub(super) taxonomy: &'a Taxonomy,
    /// The versions as plain words: what quotations are taken from and checked against.
    pub(super) before_plain: String,
    pub(super) after_plain: String,
    /// The runs of words of each version, so that a sentence said to be added is checked to be
    /// new, and one said to be removed to be gone.
    pub(super) before_wording: Wording,
    pub(super) after_wording: Wording,
    /// Changes left untold because every claim about them would be untrue (their words stand
    /// in both versions).
    pub(super) reorganised: usize,
}

/// How many words in a row make a run of [`Wording`].
const RUN_WORDS: usize = 4;
/// The share of a sentence's runs found in the other version beyond which its words are said
/// to be there still (moved, or set out otherwise), not added or removed.
const STILL_THERE: f64 = 0.7;

/// The runs of [`RUN_WORDS`] lower-cased words of a text (letters and digits only, so that
/// punctuation, markup and table cells set out otherwise do not hide the same words).
///
/// Built the first time a claim is checked (most memos make none), as a sorted vector: the runs
/// are hashes already, and a binary search over them beats hashing them again.
#[derive(Default)]
pub(super) struct Wording(std::cell::OnceCell<Vec<u64>>);

impl Wording {
    /// Whether most of a sentence's words stand, in the same order, in `text` (the version
    /// this wording is of).
    pub(super) fn holds(&self, text: &str, sentence: &str) -> bool {
        let known = self.0.get_or_init(|| {
            let mut known: Vec<u64> = runs(text).collect();
            known.sort_unstable();
            known.dedup();
            known
        });
        let runs: Vec<u64> = runs(sentence).collect();
        if runs.is_empty() {
            return false;
        }
        let held = runs
            .iter()
            .filter(|run| known.binary_search(run).is_ok())
            .count();
        held as f64 / runs.len() as f64 >= STILL_THERE
    }
}

fn runs(text: &str) -> impl Iterator<Item = u64> {
    // Each word hashed once, lower-cased as it is read (FNV-1a: no allocation), and a run is
    // its words' hashes mixed in order.
    let words: Vec<u64> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|word| {
            word.chars()
                .flat_map(char::to_lowercase)
                .fold(0xcbf2_9ce4_8422_2325_u64, |hash, c| {
                    (hash ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3)
                })
        })
        .collect();
    let count = words.len().saturating_sub(RUN_WORDS - 1);
    (0..count).map(move |at| {
        words[at..at + RUN_WORDS].iter().fold(0_u64, |run, word| {
            run.rotate_left(17) ^ word.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        })
    })
}

impl Writer<'_> {
    /// Whether most of a sentence's words stand, in order, in one version.
    pub(super) fn version_holds(&self, version: Side, sentence: &str) -> bool {
        match version {
            Side::Before => self.before_wording.holds(&self.before_plain, sentence),
            Side::After => self.after_wording.holds(&self.after_plain, sentence),
        }
    }

    /// Quotes a slice of a version in plain words (link text without its address, no markup):
    /// “…”, with an ellipsis outside the marks when cut. The quotation is always a slice of the
    /// version's plain rendering: a slice whose rendering is not (it cut a link in two) is
    /// shortened to the start that is.
    pub(super) fn quote(&mut self, text: &str, side: Side) -> String {
        self.quote_claiming(text, side, None)
    }

    /// Quotes as [`Writer::quote`] does, keeping what the memo says of the words.
    pub(super) fn quote_claiming(
        &mut self,
        text: &str,
        side: Side,
        claim: Option<Claim>,
    ) -> String {
        let plain = plain_text(text.trim()).replace('\n', " ");
        let plain = plain.trim();
        let version = match side {
            Side::After => &self.after_plain,
            Side::Before => &self.before_plain,
        };
        let held = longest_held_start(plain, version);
        let cut = truncate_chars(held, MAX_QUOTE_CHARS).trim_end();
        if cut.is_empty() {
            return "a passage".into();
        }
        self.quotes.push(Quote {
            text: cut.to_string(),
            side,
            claim,
        });
        if cut.len() < plain.len() {
            format!("“{cut}”…")
        } else {
            format!("“{cut}”")
        }
    }

    /// The most telling sentence of a block for a topic (or the first one).
    pub(super) fn pick<'t>(&self, block_content: &'t str, topic: Option<&str>) -> &'t str {
        let all = sentences(block_content);
        if let Some(topic) = topic
            && let Some(sentence) = all.iter().find(|s| self.taxonomy.find(topic, s).is_some())
        {
            return sentence;
        }
        all.first().copied().unwrap_or(block_content)
    }

    /// The sentence of the new side that holds the first inserted words.
    pub(super) fn changed_sentence<'t>(&self, change: &'t Change, side: Side) -> Option<&'t str> {
        let diff = change.word_diff.as_deref()?;
        let (open, close, text) = match side {
            Side::After => ("{+", "+}", change.after.as_deref()?),
            Side::Before => ("[-", "-]", change.before.as_deref()?),
        };
        // A piece may span sentences (a paragraph extended by two): each of its sentences counts.
        let pieces: Vec<&str> = diff
            .split(open)
            .skip(1)
            .filter_map(|p| p.split(close).next())
            .flat_map(sentences)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let content = strip_block_prefix(text);
        // The sentence holding most of the changed words, counted as whole words.
        let is_word_in = |piece: &str, sentence: &str| {
            sentence.match_indices(piece).any(|(at, _)| {
                let before = sentence[..at].chars().next_back();
                let after = sentence[at + piece.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
        };
        sentences(content)
            .into_iter()
            .map(|s| {
                (
                    pieces
                        .iter()
                        .filter(|p| is_word_in(p, s))
                        .map(|p| p.len())
                        .sum::<usize>(),
                    s,
                )
            })
            .filter(|(score, _)| *score > 0)
            .max_by_key(|(score, _)| *score)
            .map(|(_, s)| s)
    }

    ///
    /// `None` when every claim it could make would be untrue of the two versions: the words of
    /// a block said to be added stand in the previous version (moved, or set out otherwise), or
    /// those of one said to be removed stand in the new one.
    pub(super) fn clause(&mut self, change: &Change, topic: Option<&str>) -> Option<String> {
        let quoted = self.quotes.len();
        let clause = self.clause_claiming(change, topic);
        // The last word: a claim the versions contradict is not made.
        let holds = self.quotes[quoted..]
            .iter()
            .all(|q| q.claim_holds(&self.before_plain, &self.after_plain));
        if clause.is_none() || !holds {
            self.quotes.truncate(quoted);
            return None;
        }
        clause
    }

    fn clause_claiming(&mut self, change: &Change, topic: Option<&str>) -> Option<String> {
        Some(match change.kind {
            BlockChange::Added => {
                let content = strip_block_prefix(change.after.as_deref().unwrap_or(""));
                let sentence = self.pick_new(content, topic, Side::After)?;
                let quoted = self.quote_claiming(sentence, Side::After, Some(Claim::New));
                format!("added {quoted}{}", list_context(change, "to"))
            }
            BlockChange::Removed => {
                let content = strip_block_prefix(change.before.as_deref().unwrap_or(""));
                let sentence = self.pick_new(content, topic, Side::Before)?;
                let quoted = self.quote_claiming(sentence, Side::Before, Some(Claim::Gone));
                format!("removed {quoted}{}", list_context(change, "from"))
            }
            BlockChange::Modified | BlockChange::Moved => {
                let new = self.changed_sentence(change, Side::After);
                let old = self.changed_sentence(change, Side::Before);
                match (new, old) {
                    (Some(new), Some(old))
                        if old.chars().count() <= 160 && new.chars().count() <= 160 =>
                    {
                        let new_quote = self.quote_claiming(new, Side::After, Some(Claim::New));
                        let old_quote = self.quote_claiming(old, Side::Before, Some(Claim::Gone));
                        format!("changed {old_quote} to {new_quote}")
                    }
                    (Some(new), _) => format!(
                        "now reads {}",
                        self.quote_claiming(new, Side::After, Some(Claim::New))
                    ),
                    (None, Some(old)) => {
                        if self.version_holds(Side::After, &plain_text(old)) {
                            return None;
                        }
                        format!(
                            "no longer says {}",
                            self.quote_claiming(old, Side::Before, Some(Claim::Gone))
                        )
                    }
                    (None, None) => {
                        let content = strip_block_prefix(change.after.as_deref().unwrap_or(""));
                        format!(
                            "reworded {}",
                            self.quote(self.pick(content, topic), Side::After)
                        )
                    }
                }
            }
        })
    }

    /// The most telling sentence of an added (or removed) block whose words the other version
    /// does not hold: one that is truly new (or truly gone).
    fn pick_new<'t>(&self, content: &'t str, topic: Option<&str>, side: Side) -> Option<&'t str> {
        let other = match side {
            Side::After => Side::Before,
            Side::Before => Side::After,
        };
        let is_new = |sentence: &str| !self.version_holds(other, &plain_text(sentence));
        let picked = self.pick(content, topic);
        if is_new(picked) {
            return Some(picked);
        }
        sentences(content).into_iter().find(|s| is_new(s))
    }
}

/// Where a list item added or removed stands, when its lead-in says: " to what it does not
/// allow" (or " from …").
fn list_context(change: &Change, preposition: &str) -> String {
    let is_item = [change.after.as_deref(), change.before.as_deref()]
        .into_iter()
        .flatten()
        .any(|text| strip_block_prefix(text).len() < text.trim_start().len());
    match change.lead_in.as_deref() {
        Some(lead_in) if is_item && super::headline::forbids(lead_in) => {
            format!(" {preposition} what it does not allow")
        }
        _ => String::new(),
    }
}

/// The words of a word diff's only replacement (`[-old-]{+new+}`), when it is the only change and
/// both sides are short.
pub(super) fn single_replacement(diff: &str) -> Option<(&str, &str)> {
    if diff.matches("[-").count() != 1 || diff.matches("{+").count() != 1 {
        return None;
    }
    let start = diff.find("[-")?;
    let old_end = diff[start..].find("-]")? + start;
    let old = &diff[start + 2..old_end];
    let new_part = diff[old_end + 2..].strip_prefix("{+")?;
    let new = &new_part[..new_part.find("+}")?];
    // A few plain words on each side (not a link's address or markup).
    let short = |s: &str| {
        let words = s.split_whitespace().count();
        (1..=4).contains(&words)
            && s.chars().any(char::is_alphabetic)
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '\'' | '’'))
    };
    (short(old) && short(new)).then_some((old, new))
}

/// A block's text without its list, heading or table prefix (still a slice of it).
pub(super) fn strip_block_prefix(text: &str) -> &str {
    let trimmed = text.trim_start();
    let trimmed = trimmed.trim_start_matches('#').trim_start();
    for marker in ["*   ", "* ", "- ", "+ "] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            return rest.trim_start();
        }
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && trimmed[digits..].starts_with(". ") {
        return trimmed[digits + 2..].trim_start();
    }
    trimmed.trim_start_matches('|').trim()
}
