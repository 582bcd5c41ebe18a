//! Analysis of a change between two versions of one document.
//!
//! [`analyse`] splits both versions into [`blocks`] (headings, paragraphs, list
//! items, table rows), diffs the block sequences with `similar`, pairs removed
//! and added blocks into *modified* ones when they are alike (then diffs their
//! words), and recognises *moved* blocks. Each [`Change`] is then judged:
//! cosmetic (whitespace, punctuation, typographic quotes, case, link targets,
//! tracking parameters, reordering, the date of a "last updated" line) or
//! substantive; tagged with [`Topic`]s; and given a significance in [0, 1].
//! The whole [`Analysis`] also says whether the new text reverts to an earlier
//! version, which dates the text states, and whether a change was announced.
//!
//! Significance: a cosmetic change scores 0.02 (a move 0.01); the change as a whole is scored
//! by the model of [`significance`] from its substantive changes, and explained by its
//! factors. Reverts and technical upgrades score at most 0.05; cosmetic-only changes at most
//! 0.02. The [`Analysis`] keeps at most [`MAX_TOPICS`] topics, ordered by the share of each
//! change's score that its changed words and its section's headings give them.
//!
//! ```
//! use policydiff::analyse::{analyse, ChangeKind, Taxonomy};
//!
//! let before = "Privacy\n=======\n\nWe collect your email.";
//! let after = "Privacy\n=======\n\nWe collect your email and your interactions with AI features.";
//! let analysis = analyse(Some(before), after, None, false, &Taxonomy::default());
//! assert_eq!(analysis.change_kind, ChangeKind::Substantive);
//! assert_eq!(analysis.topics[0], "ai");
//! assert!(analysis.significance > 0.3);
//! ```

/// The most topics a change is tagged with.
pub const MAX_TOPICS: usize = 4;

pub mod significance;
mod topics;

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffOp};

use crate::structure::Structure;
pub use crate::structure::blocks::{self, Block, BlockKind};
pub use crate::structure::{
    Announcement, announced_change, effective_date, month_number, plain_text, sentences,
};
pub use topics::{Taxonomy, Topic};

/// What kind of change a block underwent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockChange {
    /// A new block.
    Added,
    /// A block that is gone.
    Removed,
    /// A block whose words changed.
    Modified,
    /// The same block in another place.
    Moved,
}

/// One change between two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Added, removed, modified or moved.
    pub kind: BlockChange,
    /// The headings of the section it sits in.
    pub section: Vec<String>,
    /// For a list item: the line that introduces its list ("Information categories we use:").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_in: Option<String>,
    /// The block before (removed, modified, moved).
    pub before: Option<String>,
    /// The block after (added, modified, moved).
    pub after: Option<String>,
    /// For modified blocks: the words, with `[-removed-]` and `{+added+}` marks.
    pub word_diff: Option<String>,
    /// Whether the change leaves the meaning alone.
    pub cosmetic: bool,
    /// Topics it touches, most weighty first.
    pub topics: Vec<String>,
    /// Significance in [0, 1].
    pub significance: f64,
}

/// What a change does to an announcement of a change to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementEvent {
    /// The new version announces a change the previous one did not: news.
    Made,
    /// Both versions carry the same announcement: not news.
    Standing,
    /// The announced day has come: the new version is in force from it and the announcement
    /// is gone. The announced change is now the policy: the news, in the announcement's words.
    Fulfilled,
    /// The announcement is gone, and the new version does not say it is in force from the
    /// announced day.
    Withdrawn,
}

/// The least significance of a change that fulfils an announcement saying what changes: the
/// announced change is the news, whatever the diff looks like (a policy rebuilt around it).
const FULFILLED_SIGNIFICANCE: f64 = 0.85;
/// The least significance of a new announcement saying what will change.
const ANNOUNCED_SIGNIFICANCE: f64 = 0.75;

/// The nature of a whole change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// At least one change of meaning.
    Substantive,
    /// Only formatting, links, punctuation, order, dates of "last updated".
    Cosmetic,
    /// The new text is identical to an earlier version.
    Revert,
    /// The text changed because the declaration or the engine changed.
    Technical,
}

/// Everything said about a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Substantive, cosmetic, revert or technical.
    pub change_kind: ChangeKind,
    /// For reverts: the commit whose text came back.
    pub reverts_to: Option<String>,
    /// The block changes, in document order.
    pub changes: Vec<Change>,
    /// Topics of the substantive changes, most significant first.
    pub topics: Vec<String>,
    /// Significance of the whole change in [0, 1].
    pub significance: f64,
    /// The effective / last-updated date the previous version states.
    pub previous_effective_date: Option<String>,
    /// The effective / last-updated date the new version states.
    pub effective_date: Option<String>,
    /// An upcoming change the text announces (the previous version's, when the new one no
    /// longer carries it).
    pub announced_change: Option<Announcement>,
    /// What the change does to that announcement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement_event: Option<AnnouncementEvent>,
    /// Why the significance is what it is: each feature's contribution, largest first (empty
    /// when no change is substantive).
    #[serde(default)]
    pub significance_factors: Vec<significance::Factor>,
    /// The features the significance was computed from (none when no change is substantive).
    #[serde(default)]
    pub significance_features: Option<significance::Features>,
}

/// Analyses the change from `before` (none for a first record) to `after`.
///
/// `reverts_to` names the commit of an earlier version (not the previous one) whose text is
/// identical to `after`, when there is one (see [`crate::record::find_revert`]); `technical` says the commit is a
/// technical or declaration upgrade.
pub fn analyse(
    before: Option<&str>,
    after: &str,
    reverts_to: Option<&str>,
    technical: bool,
    taxonomy: &Taxonomy,
) -> Analysis {
    let old = before.map(Structure::read);
    let new = Structure::read(after);
    let old_blocks = old
        .as_ref()
        .map(|s| s.blocks.as_slice())
        .unwrap_or_default();
    let mut changes = diff_blocks(old_blocks, &new.blocks);
    for change in &mut changes {
        judge(change, taxonomy);
    }
    let (announced, announcement_event) = announcement_event(before, old.as_ref(), &new, after);
    if announcement_event == Some(AnnouncementEvent::Fulfilled)
        && let Some(announcement) = &announced
    {
        // The banner of a change that has come is not a retreat from it.
        for change in &mut changes {
            if change.kind == BlockChange::Removed
                && change
                    .before
                    .as_deref()
                    .is_some_and(|b| is_banner(b, announcement))
            {
                change.cosmetic = true;
                change.significance = 0.02;
            }
        }
    }
    let reverts_to = reverts_to
        .filter(|_| before.is_some_and(|b| b != after))
        .map(str::to_string);
    let substantive: Vec<&Change> = changes.iter().filter(|c| !c.cosmetic).collect();
    let change_kind = if technical {
        ChangeKind::Technical
    } else if reverts_to.is_some() {
        ChangeKind::Revert
    } else if !substantive.is_empty() {
        ChangeKind::Substantive
    } else {
        ChangeKind::Cosmetic
    };
    // At most four topics: a memo about everything is about nothing.
    let mut topics = rank_topics(&substantive, taxonomy);
    topics.truncate(MAX_TOPICS);
    let mut significance_factors = Vec::new();
    let mut significance_features = None;
    let mut significance = if substantive.is_empty() {
        changes.iter().map(|c| c.significance).fold(0.0, f64::max)
    } else {
        let changed_words = substantive.iter().map(|c| changed_word_count(c)).sum();
        let mut features = significance::Features::of(&substantive, before, after, changed_words);
        features.topic_weight = substantive
            .iter()
            .flat_map(|c| &c.topics)
            .filter_map(|t| taxonomy.get(t))
            .map(|t| t.weight)
            .fold(0.0, f64::max);
        significance_factors = features.explain();
        significance_features = Some(features);
        features.score()
    };
    let floor = match (
        announcement_event,
        announced.as_ref().and_then(|a| a.news.as_ref()),
    ) {
        (Some(AnnouncementEvent::Fulfilled), Some(_)) => {
            Some(("announcement_fulfilled", FULFILLED_SIGNIFICANCE))
        }
        (Some(AnnouncementEvent::Made), Some(_)) => {
            Some(("announcement_made", ANNOUNCED_SIGNIFICANCE))
        }
        _ => None,
    };
    if let Some((feature, floor)) = floor
        && change_kind == ChangeKind::Substantive
        && significance < floor
    {
        significance_factors.insert(
            0,
            significance::Factor {
                feature: feature.to_string(),
                value: 1.0,
                contribution: round(logit(floor) - logit(significance)),
            },
        );
        significance = floor;
    }
    if matches!(change_kind, ChangeKind::Revert | ChangeKind::Technical) {
        significance = significance.min(0.05);
    }
    Analysis {
        change_kind,
        reverts_to,
        changes,
        topics,
        significance: round(significance),
        previous_effective_date: old.and_then(|old| old.effective_date),
        effective_date: new.effective_date,
        announced_change: announced,
        announcement_event,
        significance_factors,
        significance_features,
    }
}

/// The announcement a change concerns, and what it does to it: made, standing, fulfilled or
/// withdrawn (see [`AnnouncementEvent`]).
fn announcement_event(
    before: Option<&str>,
    old: Option<&Structure>,
    new: &Structure,
    after: &str,
) -> (Option<Announcement>, Option<AnnouncementEvent>) {
    let old_announcement = old.and_then(|old| old.announcement.as_ref());
    match (old_announcement, &new.announcement) {
        (_, Some(announced)) => {
            let standing = before.is_some_and(|before| before.contains(&announced.text))
                && old_announcement.is_some_and(|o| o.date == announced.date);
            let event = match (before, standing) {
                (None, _) => None,
                (Some(_), true) => Some(AnnouncementEvent::Standing),
                (Some(_), false) => Some(AnnouncementEvent::Made),
            };
            (Some(announced.clone()), event)
        }
        (Some(announced), None) => {
            let event = if after.contains(&announced.text) {
                AnnouncementEvent::Standing
            } else if new
                .effective_date
                .as_deref()
                .is_some_and(|date| date >= announced.date.as_str())
            {
                AnnouncementEvent::Fulfilled
            } else {
                AnnouncementEvent::Withdrawn
            };
            (Some(announced.clone()), Some(event))
        }
        (None, None) => (None, None),
    }
}

/// Whether a removed block is part of an announcement's banner: its dated line, the sentence
/// saying what changes, or the link to the announced text.
fn is_banner(block: &str, announcement: &Announcement) -> bool {
    let plain = plain_text(block);
    let plain = plain.trim();
    block.contains(&announcement.text)
        || announcement
            .news
            .as_deref()
            .is_some_and(|news| block.contains(news))
        || (plain.split_whitespace().count() <= 6
            && plain.to_lowercase().contains("new policy")
            && block.contains("]("))
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// What pairing compares of a block, computed once per block rather than once per pair.
struct Profile<'a> {
    normalised: String,
    /// Lower-cased words (letters and digits) and their counts.
    words: std::collections::HashMap<String, usize>,
    word_total: usize,
    /// The word diff's tokens (runs of whitespace and of other characters) and their counts.
    tokens: std::collections::HashMap<&'a str, usize>,
    token_total: usize,
}

impl<'a> Profile<'a> {
    fn new(block: &'a Block) -> Profile<'a> {
        let content = block.content();
        let mut words = std::collections::HashMap::new();
        for word in content
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *words.entry(word.to_lowercase()).or_insert(0) += 1;
        }
        let mut tokens = std::collections::HashMap::new();
        let mut start = 0;
        let mut previous_is_space = None;
        for (at, c) in content.char_indices() {
            let is_space = c.is_whitespace();
            if previous_is_space.is_some_and(|p| p != is_space) {
                *tokens.entry(&content[start..at]).or_insert(0) += 1;
                start = at;
            }
            previous_is_space = Some(is_space);
        }
        if start < content.len() {
            *tokens.entry(&content[start..]).or_insert(0) += 1;
        }
        Profile {
            normalised: normalise(&block.text),
            word_total: words.values().sum(),
            words,
            token_total: tokens.values().sum(),
            tokens,
        }
    }

    /// Share of the smaller block's words found in the other.
    fn containment(&self, other: &Profile<'_>) -> f32 {
        let shared = shared_count(&self.words, &other.words);
        let smaller = self.word_total.min(other.word_total);
        if smaller == 0 {
            0.0
        } else {
            shared as f32 / smaller as f32
        }
    }

    /// The highest word-diff ratio the two could have: matched tokens are at most the tokens
    /// they share. Lets pairing skip the diff of blocks that cannot be alike.
    fn ratio_bound(&self, other: &Profile<'_>) -> f32 {
        let total = self.token_total + other.token_total;
        if total == 0 {
            return 1.0;
        }
        let shared = shared_count(&self.tokens, &other.tokens);
        2.0 * shared as f32 / total as f32
    }
}

/// The size of the intersection of two multisets, walking the smaller one (a page-long block
/// is compared with many short ones).
fn shared_count<K: std::hash::Hash + Eq>(
    a: &std::collections::HashMap<K, usize>,
    b: &std::collections::HashMap<K, usize>,
) -> usize {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .map(|(key, n)| (*n).min(large.get(key).copied().unwrap_or(0)))
        .sum()
}

/// How alike two blocks are, in [0, 1]: the word diff's ratio, raised when one block's words are
/// nearly all in the other (a sentence extended or shortened is the same block, modified).
/// `None` when they cannot reach `at_least`.
fn similarity(a: (&Block, &Profile<'_>), b: (&Block, &Profile<'_>), at_least: f32) -> Option<f32> {
    let contained = a.1.containment(b.1) >= 0.8;
    if !contained && a.1.ratio_bound(b.1) + 1e-4 < at_least {
        return None;
    }
    let ratio = word_ratio(a.0.content(), b.0.content());
    let similarity = if contained { ratio.max(0.6) } else { ratio };
    (similarity >= at_least).then_some(similarity)
}

fn word_ratio(a: &str, b: &str) -> f32 {
    similar::TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(std::time::Duration::from_millis(200))
        .diff_words(a, b)
        .ratio()
}

/// Hunks with at most this many (old block, new block) pairs have every pair compared (the
/// largest hunks of the pga and genai-eu histories have fewer than 36,000).
const PAIRING_EVERY_PAIR_UP_TO: usize = 200 * 200;
/// In larger hunks, an old block is compared with the new blocks up to this far from its
/// relative place.
const PAIRING_WINDOW: usize = 40;

/// Diffs two block sequences into changes, in the order of the new version.
pub fn diff_blocks(old: &[Block], new: &[Block]) -> Vec<Change> {
    let old_texts: Vec<&str> = old.iter().map(|b| b.text.as_str()).collect();
    let new_texts: Vec<&str> = new.iter().map(|b| b.text.as_str()).collect();
    let ops = similar::capture_diff_slices(Algorithm::Patience, &old_texts, &new_texts);
    let mut changes = Vec::new();
    for op in ops {
        let (old_range, new_range) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index..old_index + old_len, new_index..new_index),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index..old_index, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        let mut unpaired_new: Vec<usize> = new_range.clone().collect();
        let mut hunk: Vec<(usize, Change)> = Vec::new();
        let new_profiles: Vec<Profile<'_>> =
            new_range.clone().map(|n| Profile::new(&new[n])).collect();
        let new_profile = |n: usize| &new_profiles[n - new_range.start];
        // Every old block of a hunk is compared with every new one, unless the hunk is a
        // rewrite too large for that (its cost grows with the product of the sizes): then with
        // the new blocks around the same relative place, as rewritten documents keep their order.
        let windowed = old_range.len() * new_range.len() > PAIRING_EVERY_PAIR_UP_TO;
        let (old_start, old_len, new_len) = (old_range.start, old_range.len(), new_range.len());
        for o in old_range {
            let old_profile = Profile::new(&old[o]);
            let candidates = if windowed {
                let expected = new_range.start + (o - old_start) * new_len / old_len.max(1);
                let low = expected.saturating_sub(PAIRING_WINDOW);
                let high = expected + PAIRING_WINDOW;
                unpaired_new.partition_point(|&n| n < low)
                    ..unpaired_new.partition_point(|&n| n <= high)
            } else {
                0..unpaired_new.len()
            };
            // Pair with the most alike new block of the hunk, if alike enough (ties: the last).
            let mut best: Option<(usize, usize, f32)> = None;
            for (slot, &n) in unpaired_new
                .iter()
                .enumerate()
                .take(candidates.end)
                .skip(candidates.start)
            {
                let kinds_match = old[o].kind == new[n].kind
                    || matches!(
                        (old[o].kind, new[n].kind),
                        (BlockKind::Paragraph, BlockKind::ListItem)
                            | (BlockKind::ListItem, BlockKind::Paragraph)
                    );
                if !kinds_match {
                    continue;
                }
                let at_least = best.map_or(0.5, |(_, _, ratio)| ratio);
                let ratio = if old_profile.normalised == new_profile(n).normalised {
                    Some(1.0)
                } else {
                    similarity((&old[o], &old_profile), (&new[n], new_profile(n)), at_least)
                };
                if let Some(ratio) = ratio.filter(|r| *r >= at_least) {
                    best = Some((slot, n, ratio));
                }
            }
            match best {
                Some((slot, n, _)) => {
                    unpaired_new.remove(slot);
                    hunk.push((n, modified(&old[o], &new[n])));
                }
                None => hunk.push((
                    new_range.start,
                    Change {
                        kind: BlockChange::Removed,
                        section: old[o].section.clone(),
                        lead_in: old[o].lead_in.clone(),
                        before: Some(old[o].text.clone()),
                        after: None,
                        word_diff: None,
                        cosmetic: false,
                        topics: Vec::new(),
                        significance: 0.0,
                    },
                )),
            }
        }
        for n in unpaired_new {
            hunk.push((
                n,
                Change {
                    kind: BlockChange::Added,
                    section: new[n].section.clone(),
                    lead_in: new[n].lead_in.clone(),
                    before: None,
                    after: Some(new[n].text.clone()),
                    word_diff: None,
                    cosmetic: false,
                    topics: Vec::new(),
                    significance: 0.0,
                },
            ));
        }
        hunk.sort_by_key(|(position, _)| *position);
        changes.extend(hunk.into_iter().map(|(_, change)| change));
    }
    mark_moves(&mut changes);
    changes
}

fn modified(old: &Block, new: &Block) -> Change {
    let diff = similar::TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(std::time::Duration::from_millis(200))
        .diff_words(old.text.as_str(), new.text.as_str());
    let mut marked = String::new();
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Equal => marked.push_str(change.value()),
            similar::ChangeTag::Delete => {
                marked.push_str("[-");
                marked.push_str(change.value());
                marked.push_str("-]");
            }
            similar::ChangeTag::Insert => {
                marked.push_str("{+");
                marked.push_str(change.value());
                marked.push_str("+}");
            }
        }
    }
    Change {
        kind: BlockChange::Modified,
        section: new.section.clone(),
        lead_in: new.lead_in.clone(),
        before: Some(old.text.clone()),
        after: Some(new.text.clone()),
        word_diff: Some(marked.replace("-][-", "").replace("+}{+", "")),
        cosmetic: false,
        topics: Vec::new(),
        significance: 0.0,
    }
}

/// A removed block that reappears as an added one elsewhere is one move.
fn mark_moves(changes: &mut Vec<Change>) {
    let mut index = 0;
    while index < changes.len() {
        if changes[index].kind == BlockChange::Removed {
            let text = changes[index].before.clone().unwrap_or_default();
            if let Some(target) = changes.iter().position(|c| {
                c.kind == BlockChange::Added && c.after.as_deref() == Some(text.as_str())
            }) {
                changes[target].kind = BlockChange::Moved;
                changes[target].before = Some(text);
                changes.remove(index);
                continue;
            }
        }
        index += 1;
    }
}

/// What stays of a text once cosmetic differences are set aside.
pub fn normalise(text: &str) -> String {
    use std::sync::OnceLock;
    static LINK_TARGET: OnceLock<regex::Regex> = OnceLock::new();
    static LAST_UPDATED: OnceLock<regex::Regex> = OnceLock::new();
    let link_target = LINK_TARGET.get_or_init(|| {
        regex::Regex::new(r"\]\((?:<[^>]*>|[^)\s]*(?:\\\)[^)\s]*)*)(?: [^)]*)?\)")
            .expect("valid regex")
    });
    let last_updated = LAST_UPDATED.get_or_init(|| {
        regex::Regex::new(r"(?i)(last\s+(updated|modified|revised)|effective(\s+date|\s+as\s+of|\s+from)?|updated(\s+on)?|version\s+date)").expect("valid regex")
    });
    let without_targets = link_target.replace_all(text, "]");
    let mut folded = String::with_capacity(without_targets.len());
    for c in without_targets.chars() {
        let c = match c {
            '‘' | '’' | '‚' | '‛' | '“' | '”' | '„' | '‟' | '«' | '»' | '"' | '\'' =>
            {
                continue;
            }
            '\u{A0}' | '\u{202F}' | '\u{2007}' => ' ',
            '\u{200B}'
            | '\u{200C}'
            | '\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{2060}'..='\u{2064}' => continue,
            c if c.is_alphanumeric() => c,
            c if c.is_whitespace() => ' ',
            _ => ' ',
        };
        folded.extend(c.to_lowercase());
    }
    let mut words: Vec<std::borrow::Cow<'_, str>> =
        folded.split_whitespace().map(one_spelling).collect();
    if last_updated.is_match(text) {
        // The date of a "last updated" line is not a change of meaning.
        words.retain(|w| !w.chars().all(|c| c.is_ascii_digit()) && month_number(w).is_none());
    }
    words.join(" ")
}

/// Words whose British and American spellings differ other than by a rule of [`one_spelling`].
const SPELLINGS: &[(&str, &str)] = &[
    ("centre", "center"),
    ("centres", "centers"),
    ("centred", "centered"),
    ("metre", "meter"),
    ("metres", "meters"),
    ("theatre", "theater"),
    ("fibre", "fiber"),
    ("litre", "liter"),
    ("licence", "license"),
    ("licences", "licenses"),
    ("defence", "defense"),
    ("offence", "offense"),
    ("offences", "offenses"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("catalogue", "catalog"),
    ("dialogue", "dialog"),
    ("judgement", "judgment"),
    ("judgements", "judgments"),
    ("enrol", "enroll"),
    ("enrolment", "enrollment"),
    ("fulfil", "fulfill"),
    ("fulfilment", "fulfillment"),
    ("ageing", "aging"),
    ("cheque", "check"),
    ("grey", "gray"),
    ("aluminium", "aluminum"),
];

/// A lower-case word in one spelling for British and American English ("personalise" and
/// "personalize", "Centre" and "Center", "behaviour" and "behavior" read the same): a policy
/// switching spellings says nothing new. Both versions are folded alike, so a rule that also
/// folds a word with one spelling ("advertise" → "advertize") changes nothing.
pub(crate) fn one_spelling(word: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if let Some((_, american)) = SPELLINGS.iter().find(|(british, _)| *british == word) {
        return Cow::Borrowed(american);
    }
    const SUFFIXES: &[(&str, &str, usize)] = &[
        ("isation", "ization", 8),
        ("isations", "izations", 9),
        ("ise", "ize", 6),
        ("ised", "ized", 7),
        ("ises", "izes", 7),
        ("ising", "izing", 8),
        ("iser", "izer", 7),
        ("isers", "izers", 8),
        ("yse", "yze", 6),
        ("ysed", "yzed", 7),
        ("ysing", "yzing", 8),
        ("our", "or", 6),
        ("ours", "ors", 7),
        ("oured", "ored", 8),
        ("ouring", "oring", 9),
        ("ourite", "orite", 8),
        ("ourable", "orable", 9),
        ("elled", "eled", 7),
        ("elling", "eling", 8),
    ];
    for (british, american, shortest) in SUFFIXES {
        if word.len() >= *shortest
            && let Some(stem) = word.strip_suffix(british)
        {
            return Cow::Owned(format!("{stem}{american}"));
        }
    }
    Cow::Borrowed(word)
}

fn word_count(text: Option<&str>) -> usize {
    text.map(|t| t.split_whitespace().count()).unwrap_or(0)
}

fn judge(change: &mut Change, taxonomy: &Taxonomy) {
    change.cosmetic = match change.kind {
        BlockChange::Moved => true,
        BlockChange::Modified => {
            normalise(change.before.as_deref().unwrap_or(""))
                == normalise(change.after.as_deref().unwrap_or(""))
        }
        BlockChange::Added | BlockChange::Removed => normalise(
            change
                .before
                .as_deref()
                .or(change.after.as_deref())
                .unwrap_or(""),
        )
        .is_empty(),
    };
    if change.cosmetic {
        change.significance = if change.kind == BlockChange::Moved {
            0.01
        } else {
            0.02
        };
        return;
    }
    let changed_words = changed_word_count(change);
    let touched = touched_text(change);
    // Where the change sits says what it is about as much as its words do.
    let heading = change.section.join(" ");
    let mut found = taxonomy.topics_in(&touched);
    for topic in taxonomy.topics_in(&heading) {
        if !found.iter().any(|t| t.name == topic.name) {
            found.push(topic);
        }
    }
    let weight = found.iter().map(|t| t.weight).fold(0.0, f64::max);
    change.topics = found.iter().map(|t| t.name.clone()).collect();
    let amount = 1.0 - (-(changed_words as f64) / 40.0).exp();
    change.significance = round((0.15 + 0.45 * amount + 0.4 * weight).clamp(0.0, 1.0));
}

/// What a change says: the changed words of a modified block with their context, else the block.
fn touched_text(change: &Change) -> String {
    match change.kind {
        BlockChange::Modified => modified_text(change),
        _ => format!(
            "{} {}",
            change.before.as_deref().unwrap_or(""),
            change.after.as_deref().unwrap_or("")
        ),
    }
}

/// Words added and removed by a change: the marked words of a modified block, else the block's.
fn changed_word_count(change: &Change) -> usize {
    match change.kind {
        BlockChange::Modified => {
            let diff = change.word_diff.as_deref().unwrap_or("");
            let mut count = 0;
            for (open, close) in [("[-", "-]"), ("{+", "+}")] {
                for piece in diff.split(open).skip(1) {
                    count += piece
                        .split(close)
                        .next()
                        .unwrap_or("")
                        .split_whitespace()
                        .count();
                }
            }
            count
        }
        _ => word_count(change.before.as_deref()) + word_count(change.after.as_deref()),
    }
}

/// The changed words of a modified block with a few words around each change (both sides):
/// what the change is about, without the rest of a long block.
fn modified_text(change: &Change) -> String {
    const CONTEXT_WORDS: usize = 8;
    let diff = change.word_diff.as_deref().unwrap_or("");
    // Words of the marked diff, each flagged when inside a change.
    let mut words: Vec<(&str, bool)> = Vec::new();
    let mut rest = diff;
    while !rest.is_empty() {
        let next_mark = [rest.find("[-"), rest.find("{+")]
            .into_iter()
            .flatten()
            .min();
        match next_mark {
            Some(at) => {
                words.extend(rest[..at].split_whitespace().map(|w| (w, false)));
                let close = if rest[at..].starts_with("[-") {
                    "-]"
                } else {
                    "+}"
                };
                let inner_end = rest[at + 2..]
                    .find(close)
                    .map_or(rest.len(), |e| at + 2 + e);
                words.extend(
                    rest[at + 2..inner_end]
                        .split_whitespace()
                        .map(|w| (w, true)),
                );
                rest = rest.get(inner_end + 2..).unwrap_or("");
            }
            None => {
                words.extend(rest.split_whitespace().map(|w| (w, false)));
                rest = "";
            }
        }
    }
    let keep: Vec<bool> = (0..words.len())
        .map(|i| {
            let from = i.saturating_sub(CONTEXT_WORDS);
            let to = (i + CONTEXT_WORDS + 1).min(words.len());
            words[from..to].iter().any(|(_, changed)| *changed)
        })
        .collect();
    words
        .iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|((word, _), _)| *word)
        .collect::<Vec<_>>()
        .join(" ")
}

fn rank_topics(changes: &[&Change], taxonomy: &Taxonomy) -> Vec<String> {
    let mut scores: Vec<(String, f64)> = Vec::new();
    for change in changes {
        // A change's significance is shared among its topics by how much it says of each:
        // mentions in the changed words, and (twice) in its section's headings.
        let touched = touched_text(change);
        let heading = change.section.join(" ");
        let evidence: Vec<(String, f64)> = change
            .topics
            .iter()
            .map(|topic| {
                let hits = taxonomy.hits(topic, &touched) + 2 * taxonomy.hits(topic, &heading);
                (topic.clone(), hits.max(1) as f64)
            })
            .collect();
        let total: f64 = evidence.iter().map(|(_, hits)| hits).sum();
        for (topic, hits) in evidence {
            let share = change.significance * hits / total;
            match scores.iter_mut().find(|(name, _)| *name == topic) {
                Some((_, score)) => *score += share,
                None => scores.push((topic, share)),
            }
        }
    }
    let order = |name: &str| taxonomy.position(name);
    scores.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| order(&a.0).cmp(&order(&b.0)))
    });
    scores.into_iter().map(|(name, _)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(before: &str, after: &str) -> Vec<(BlockChange, bool)> {
        analyse(Some(before), after, None, false, &Taxonomy::default())
            .changes
            .iter()
            .map(|c| (c.kind, c.cosmetic))
            .collect()
    }

    #[test]
    fn a_rewrite_too_large_to_compare_every_pair_still_pairs_blocks_that_kept_their_place() {
        // 300 paragraphs, every one reworded: one hunk of 90,000 pairs, compared by place.
        let paragraph = |i: usize, word: &str| {
            format!("Clause {i} says we {word} the data of account {i} for the service {i}.")
        };
        let before: Vec<String> = (0..300).map(|i| paragraph(i, "keep")).collect();
        let after: Vec<String> = (0..300).map(|i| paragraph(i, "store")).collect();
        let changes = diff_blocks(
            &blocks::parse(&before.join("\n\n")),
            &blocks::parse(&after.join("\n\n")),
        );
        assert_eq!(changes.len(), 300);
        assert!(changes.iter().all(|c| c.kind == BlockChange::Modified));
        for (i, change) in changes.iter().enumerate() {
            assert_eq!(
                change.before.as_deref(),
                Some(paragraph(i, "keep").as_str())
            );
            assert_eq!(
                change.after.as_deref(),
                Some(paragraph(i, "store").as_str())
            );
        }
    }

    #[test]
    fn link_target_changes_are_cosmetic() {
        let before = "Learn [more](https://a.example/x?did=1) about it.";
        let after = "Learn [more](https://a.example/x?did=2) about it.";
        let analysis = analyse(Some(before), after, None, false, &Taxonomy::default());
        assert_eq!(analysis.change_kind, ChangeKind::Cosmetic);
        assert!(analysis.significance < 0.05);
    }

    #[test]
    fn punctuation_quotes_case_and_last_updated_dates_are_cosmetic() {
        assert_eq!(
            kinds("We don't sell data.", "We don’t sell data"),
            [(BlockChange::Modified, true)]
        );
        assert_eq!(
            kinds("WE KEEP DATA", "We keep data"),
            [(BlockChange::Modified, true)]
        );
        assert_eq!(
            kinds(
                "Last updated: June 1, 2025",
                "Last updated: December 16, 2025"
            ),
            [(BlockChange::Modified, true)]
        );
    }

    #[test]
    fn reordered_blocks_are_moves() {
        let before = "First clause.\n\nSecond clause.\n\nThird clause.";
        let after = "Third clause.\n\nFirst clause.\n\nSecond clause.";
        let analysis = analyse(Some(before), after, None, false, &Taxonomy::default());
        assert_eq!(analysis.change_kind, ChangeKind::Cosmetic);
        assert!(
            analysis
                .changes
                .iter()
                .all(|c| c.kind == BlockChange::Moved)
        );
    }

    #[test]
    fn flapping_text_is_a_revert() {
        let analysis = analyse(
            Some("Banner B\n\nText."),
            "Banner A\n\nText.",
            Some("abc123"),
            false,
            &Taxonomy::default(),
        );
        assert_eq!(analysis.change_kind, ChangeKind::Revert);
        assert_eq!(analysis.reverts_to.as_deref(), Some("abc123"));
        assert!(analysis.significance <= 0.05);
    }

    #[test]
    fn table_row_change_is_modified_with_word_diff() {
        let before = "| Data | Kept |\n| --- | --- |\n| Logs | 90 days |";
        let after = "| Data | Kept |\n| --- | --- |\n| Logs | 180 days |";
        let analysis = analyse(Some(before), after, None, false, &Taxonomy::default());
        assert_eq!(analysis.changes.len(), 1);
        let change = &analysis.changes[0];
        assert_eq!(change.kind, BlockChange::Modified);
        assert_eq!(
            change.word_diff.as_deref(),
            Some("| Logs | [-90-]{+180+} days |")
        );
        assert!(!change.cosmetic);
    }

    #[test]
    fn empty_previous_version_is_all_added() {
        let analysis = analyse(
            Some(""),
            "New text about advertising partners.",
            None,
            false,
            &Taxonomy::default(),
        );
        assert_eq!(analysis.changes.len(), 1);
        assert_eq!(analysis.changes[0].kind, BlockChange::Added);
        assert!(analysis.topics.contains(&"advertising".to_string()));
    }

    #[test]
    fn british_and_american_spellings_are_one() {
        let before =
            "Contact the Help Centre. We personalise ads from your behaviour and analyse it.";
        let after =
            "Contact the Help Center. We personalize ads from your behavior and analyze it.";
        assert_eq!(normalise(before), normalise(after));
        let analysis = analyse(Some(before), after, None, false, &Taxonomy::default());
        assert_eq!(analysis.change_kind, ChangeKind::Cosmetic);
        // A new word is not a spelling.
        assert_ne!(
            normalise("We personalise ads."),
            normalise("We personalise content.")
        );
    }
}
