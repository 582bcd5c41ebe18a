//! Memos: a reviewable draft for each recorded change.
//!
//! [`draft`] turns an [`Analysis`] into a [`Memo`]: YAML front matter that OTA's
//! memo publishing accepts (title, description, service, terms types, dates,
//! author, collections) plus policydiff's own fields (commit, change kind,
//! significance, topics, `status: draft`), and a body that follows OTA's
//! copywriting rules — a one-sentence present-tense title with the service as
//! subject, a past-tense body with the link to the change on the action verb,
//! short quotations of the new text in quotation marks, paragraphs grouped by
//! topic (most significant first), cosmetic changes summed up in one closing line.
//!
//! Every quotation is a verbatim slice of the version it quotes; [`Memo::quotes`]
//! lists them with their side so that this can be checked. The same input always
//! gives the same memo.
//!
//! ```
//! use policydiff::analyse::{analyse, Taxonomy};
//! use policydiff::config::MemoConfig;
//! use policydiff::memo::{draft, MemoInput};
//!
//! let before = "We collect your email.";
//! let after = "We collect your email. We use your interactions with AI features to personalise ads.";
//! let taxonomy = Taxonomy::default();
//! let input = MemoInput { service: "Instagram", terms_type: "Privacy Policy", date: "2025-12-16",
//!     commit: Some("0123456789abcdef"), previous_commit: None, before: Some(before), after };
//! let memo = draft(&input, &analyse(Some(before), after, None, false, &taxonomy), &MemoConfig::default(), &taxonomy);
//! assert_eq!(memo.title, "Instagram now says it uses your interactions with AI features to personalise ads");
//! assert!(memo.front_matter.topics.contains(&"ai".to_string()));
//! assert!(memo.body.contains("“We use your interactions with AI features to personalise ads.”"));
//! ```

use serde::{Deserialize, Serialize};

use crate::analyse::{Analysis, BlockChange, Change, ChangeKind, Taxonomy, plain_text, sentences};
use crate::record::{VersionChange, VersionKind, VersionsRepository};
use crate::{Error, Result};

mod settings;
pub mod statement;
mod store;
pub use settings::MemoConfig;
pub use store::{MemoFile, MemoRecord, MemoStore, Stored, StoredMemo};

/// Longest quotation, in characters.
const MAX_QUOTE_CHARS: usize = 200;
/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 140;
/// How many of the most significant changes a headline may be told from.
const STATEMENT_CANDIDATES: usize = 3;
/// The most words of a list item a headline quotes.
const LIST_ITEM_WORDS: usize = 12;

/// What a memo is about.
pub struct MemoInput<'a> {
    /// The service's name (or id).
    pub service: &'a str,
    /// The terms type.
    pub terms_type: &'a str,
    /// The date of the change (YYYY-MM-DD).
    pub date: &'a str,
    /// The commit that recorded it.
    pub commit: Option<&'a str>,
    /// The commit of the previous version.
    pub previous_commit: Option<&'a str>,
    /// The previous version.
    pub before: Option<&'a str>,
    /// The new version.
    pub after: &'a str,
}

/// Which version a quotation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The previous version.
    Before,
    /// The new version.
    After,
}

/// A quotation used in a memo: plain words of a version (see [`crate::analyse::plain_text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The quoted text, verbatim.
    pub text: String,
    /// The version it is taken from.
    pub side: Side,
}

impl Quote {
    /// Whether the quotation stands verbatim in `version` (its Markdown), as plain words.
    pub fn is_verbatim_in(&self, version: &str) -> bool {
        plain_text(version).contains(&self.text)
    }
}

/// YAML front matter.
#[derive(Debug, Clone, Serialize)]
pub struct FrontMatter {
    /// Title.
    pub title: String,
    /// One-paragraph summary in HTML.
    pub html_description: String,
    /// Service.
    pub service: String,
    /// Terms types.
    pub terms_types: Vec<String>,
    /// Dates (YYYY-MM-DD).
    pub dates: Vec<String>,
    /// Author.
    pub author: String,
    /// Related collections.
    pub related_collections: Vec<String>,
    /// The commit of the change.
    pub commit: Option<String>,
    /// The commit of the previous version.
    pub previous_commit: Option<String>,
    /// Substantive, cosmetic, revert or technical.
    pub change_kind: ChangeKind,
    /// For reverts, the commit whose text came back.
    pub reverts_to: Option<String>,
    /// Significance in [0, 1].
    pub significance: f64,
    /// Topics, most significant first.
    pub topics: Vec<String>,
    /// Always `draft`: a person reviews it.
    pub status: String,
}

/// A drafted memo.
#[derive(Debug, Clone)]
pub struct Memo {
    /// The title.
    pub title: String,
    /// The front matter.
    pub front_matter: FrontMatter,
    /// The Markdown body.
    pub body: String,
    /// Every quotation of the body, with its side.
    pub quotes: Vec<Quote>,
    /// The analysis it was drafted from.
    pub analysis: Analysis,
}

/// The start of `text` within `max` characters, cut at a clause boundary (`;`, `:`, `,`, a
/// dash) when one falls in the second half, else at the last space.
fn truncate_chars(text: &str, max: usize) -> &str {
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
fn longest_held_start<'t>(text: &'t str, within: &str) -> &'t str {
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

struct Writer<'a> {
    quotes: Vec<Quote>,
    taxonomy: &'a Taxonomy,
    /// The versions as plain words: what quotations are taken from and checked against.
    before_plain: String,
    after_plain: String,
}

impl Writer<'_> {
    /// Quotes a slice of a version in plain words (link text without its address, no markup):
    /// “…”, with an ellipsis outside the marks when cut. The quotation is always a slice of the
    /// version's plain rendering: a slice whose rendering is not (it cut a link in two) is
    /// shortened to the start that is.
    fn quote(&mut self, text: &str, side: Side) -> String {
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
        });
        if cut.len() < plain.len() {
            format!("“{cut}”…")
        } else {
            format!("“{cut}”")
        }
    }

    /// The most telling sentence of a block for a topic (or the first one).
    fn pick<'t>(&self, block_content: &'t str, topic: Option<&str>) -> &'t str {
        let all = sentences(block_content);
        if let Some(topic) = topic
            && let Some(sentence) = all.iter().find(|s| self.taxonomy.find(topic, s).is_some())
        {
            return sentence;
        }
        all.first().copied().unwrap_or(block_content)
    }

    /// The sentence of the new side that holds the first inserted words.
    fn changed_sentence<'t>(&self, change: &'t Change, side: Side) -> Option<&'t str> {
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

    fn clause(&mut self, change: &Change, topic: Option<&str>) -> String {
        match change.kind {
            BlockChange::Added => {
                let content = strip_block_prefix(change.after.as_deref().unwrap_or(""));
                let sentence = self.pick(content, topic);
                format!("added {}", self.quote(sentence, Side::After))
            }
            BlockChange::Removed => {
                let content = strip_block_prefix(change.before.as_deref().unwrap_or(""));
                let sentence = self.pick(content, topic);
                format!("removed {}", self.quote(sentence, Side::Before))
            }
            BlockChange::Modified | BlockChange::Moved => {
                let new = self.changed_sentence(change, Side::After);
                let old = self.changed_sentence(change, Side::Before);
                match (new, old) {
                    (Some(new), Some(old))
                        if old.chars().count() <= 160 && new.chars().count() <= 160 =>
                    {
                        let new_quote = self.quote(new, Side::After);
                        let old_quote = self.quote(old, Side::Before);
                        format!("changed {old_quote} to {new_quote}")
                    }
                    (Some(new), _) => format!("now reads {}", self.quote(new, Side::After)),
                    (None, Some(old)) => {
                        format!("no longer says {}", self.quote(old, Side::Before))
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
        }
    }
}

const HEADLINE_STOP_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "its",
    "with",
    "from",
    "into",
    "that",
    "this",
    "their",
    "your",
    "you",
    "our",
    "are",
    "was",
    "has",
    "have",
    "can",
    "will",
    "not",
    "but",
    "all",
    "any",
    "may",
    "such",
    "use",
    "uses",
    "used",
    "also",
    "other",
    "more",
    "about",
    "when",
    "which",
    "who",
    "how",
    "these",
    "those",
    "them",
    "they",
    "we",
    "us",
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "or",
    "as",
    "an",
    "a",
    "is",
    "be",
    "it",
    "if",
    "do",
    "does",
    "like",
    "including",
    "information",
    "nor",
    "some",
    "made",
    "make",
    "makes",
    "each",
    "every",
    "own",
    "via",
    "per",
    "any",
    "one",
    "new",
    "own",
    "out",
    "only",
    "must",
    "shall",
    "should",
    "would",
    "could",
    "might",
    "been",
    "being",
    "were",
    "what",
    "where",
    "while",
    "than",
    "then",
    "there",
    "here",
    "so",
    "no",
    "yes",
    "very",
    "just",
    "both",
    "either",
    "neither",
    "certain",
    "same",
    "time",
    "way",
];

/// Two-word phrases of a text, as written, with their lower-case key.
fn phrases(text: &str) -> Vec<(String, String)> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|pair| {
            pair.iter().all(|w| {
                w.chars().count() >= 2
                    && w.chars().any(char::is_alphabetic)
                    && !HEADLINE_STOP_WORDS.contains(&w.to_lowercase().as_str())
            })
        })
        .map(|pair| {
            let phrase = pair.join(" ");
            (phrase.to_lowercase(), phrase)
        })
        .collect()
}

impl Writer<'_> {
    /// A title from the change's own words, when one can be said truly: a replacement of a few
    /// words ("X replaces “pharmacies” with “casinos” in its …"), a phrase or name the new text
    /// brings in and repeats ("X now mentions “AI features” in its …"), or a name it drops.
    /// Every quoted phrase is recorded as a quotation and checked like the others.
    fn headline(&mut self, analysis: &Analysis, service: &str, terms: &str) -> Option<String> {
        let substantive: Vec<&Change> = analysis.changes.iter().filter(|c| !c.cosmetic).collect();
        let main = substantive.iter().copied().reduce(|best, c| {
            if c.significance > best.significance {
                c
            } else {
                best
            }
        })?;
        if main.kind == BlockChange::Modified
            && let Some((old, new)) = single_replacement(main.word_diff.as_deref().unwrap_or(""))
        {
            let (old, new) = (plain_text(old), plain_text(new));
            let (old, new) = (old.trim(), new.trim());
            if self.before_plain.contains(old) && self.after_plain.contains(new) {
                let title = format!(
                    "{service} replaces {} with {} in its {terms}",
                    self.quote(old, Side::Before),
                    self.quote(new, Side::After)
                );
                return Some(title);
            }
        }
        // What the most significant changes say, retold with the service as subject.
        let mut ranked = substantive.clone();
        ranked.sort_by(|a, b| b.significance.total_cmp(&a.significance));
        for change in ranked.iter().take(STATEMENT_CANDIDATES) {
            if let Some(title) = self.statement_headline(change, service, terms) {
                return Some(title);
            }
        }
        // Phrases and names the changed text brings in, counted over the new version (one pass
        // over each version: a rewrite brings thousands of candidates).
        let before = Vocabulary::of(&self.before_plain);
        let after = Vocabulary::of(&self.after_plain);
        let added: String = substantive
            .iter()
            .filter_map(|c| c.after.as_deref())
            .map(plain_text)
            .collect::<Vec<_>>()
            .join("\n");
        let mut candidates: Vec<(usize, usize, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (key, phrase) in phrases(&added) {
            if before.bigrams.contains_key(&key)
                || !seen.insert(key.clone())
                || key.contains('\'')
                || key
                    .split(' ')
                    .any(|w| w.starts_with("here") || w.starts_with("there"))
            {
                continue;
            }
            // A phrase repeated three times is what the new text is about; fewer is incidental.
            let count = after.bigrams.get(&key).copied().unwrap_or(0);
            if count >= 3 && key.split(' ').all(|w| w.chars().count() >= 3) {
                candidates.push((count, 2, phrase));
            }
        }
        let old_names = crate::analyse::significance::names(&self.before_plain);
        for name in crate::analyse::significance::names(&added) {
            let lower = name.to_lowercase();
            if !old_names.contains(&name)
                && !before.words_lower.contains(&lower)
                && is_telling_name(&name, &after)
            {
                let count = after.as_written.get(&name).copied().unwrap_or(0);
                if count >= 2 {
                    candidates.push((count, 1, name));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        if let Some((_, _, phrase)) = candidates.into_iter().next()
            && self.after_plain.contains(phrase.as_str())
        {
            return Some(format!(
                "{service} now mentions {} in its {terms}",
                self.quote(&phrase, Side::After)
            ));
        }
        let new_names = crate::analyse::significance::names(&self.after_plain);
        let dropped = substantive
            .iter()
            .filter(|c| c.kind != BlockChange::Added)
            .filter_map(|c| c.before.as_deref())
            .flat_map(|text| crate::analyse::significance::names(&plain_text(text)))
            .find(|name| {
                !new_names.contains(name)
                    && !after.words_lower.contains(&name.to_lowercase())
                    && is_telling_name(name, &before)
                    && before.as_written.get(name).copied().unwrap_or(0) >= 2
            })?;
        Some(format!(
            "{service} no longer mentions {} in its {terms}",
            self.quote(&dropped, Side::Before)
        ))
    }
}

impl Writer<'_> {
    /// A headline from one change: a sentence it adds or removes, retold with the service as
    /// subject ("X now says it may remove accounts…"), or a list item it adds or removes
    /// ("X removes “Misgendering…” from its Community Guidelines").
    fn statement_headline(
        &mut self,
        change: &Change,
        service: &str,
        terms: &str,
    ) -> Option<String> {
        let (candidates, added): (Vec<&str>, bool) = match change.kind {
            BlockChange::Added => (
                sentences(strip_block_prefix(change.after.as_deref()?)),
                true,
            ),
            BlockChange::Removed => (
                sentences(strip_block_prefix(change.before.as_deref()?)),
                false,
            ),
            BlockChange::Modified | BlockChange::Moved => {
                match self.changed_sentence(change, Side::After) {
                    Some(sentence) => (vec![sentence], true),
                    None => (vec![self.changed_sentence(change, Side::Before)?], false),
                }
            }
        };
        for sentence in &candidates {
            let plain = plain_text(sentence);
            if let Some(statement) = statement::retell(strip_block_prefix(&plain), service) {
                let title = statement.headline(service, added);
                if title.chars().count() <= MAX_TITLE_CHARS {
                    return Some(title);
                }
            }
        }
        // A list item added or removed whole: short, without a sentence of its own.
        let block = match change.kind {
            BlockChange::Added => change.after.as_deref()?,
            BlockChange::Removed => change.before.as_deref()?,
            _ => return None,
        };
        let item = strip_block_prefix(block);
        let is_list_item =
            item.len() < block.trim_start().len() && !block.trim_start().starts_with('#');
        let plain = plain_text(item);
        let words = plain.split_whitespace().count();
        if !is_list_item || !(2..=LIST_ITEM_WORDS).contains(&words) || plain.contains('\n') {
            return None;
        }
        let plain = plain
            .trim_end_matches(['.', ';', ',', ':'])
            .trim()
            .to_string();
        Some(if added {
            format!(
                "{service} adds {} to its {terms}",
                self.quote(&plain, Side::After)
            )
        } else {
            format!(
                "{service} removes {} from its {terms}",
                self.quote(&plain, Side::Before)
            )
        })
    }
}

/// The words of a plain text, counted once.
struct Vocabulary {
    /// Each word as written, with its count.
    as_written: std::collections::HashMap<String, usize>,
    /// Every word, in lower case.
    words_lower: std::collections::HashSet<String>,
    /// Words the text writes in lower case (so common words, not names).
    lower_case_words: std::collections::HashSet<String>,
    /// Two-word phrases, in lower case, with their count.
    bigrams: std::collections::HashMap<String, usize>,
}

impl Vocabulary {
    fn of(text: &str) -> Self {
        let mut vocabulary = Vocabulary {
            as_written: Default::default(),
            words_lower: Default::default(),
            lower_case_words: Default::default(),
            bigrams: Default::default(),
        };
        let mut previous: Option<String> = None;
        for word in text
            .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
            .filter(|w| !w.is_empty())
        {
            *vocabulary.as_written.entry(word.to_string()).or_default() += 1;
            let lower = word.to_lowercase();
            if word.starts_with(|c: char| c.is_lowercase()) {
                vocabulary.lower_case_words.insert(lower.clone());
            }
            if let Some(previous) = &previous {
                *vocabulary
                    .bigrams
                    .entry(format!("{previous} {lower}"))
                    .or_default() += 1;
            }
            vocabulary.words_lower.insert(lower.clone());
            previous = Some(lower);
        }
        vocabulary
    }
}

/// Whether a capitalised word is a name worth a title: not a month or a day, not a common word
/// that a heading or a sentence start capitalised (the text also writes it in lower case).
fn is_telling_name(name: &str, text: &Vocabulary) -> bool {
    const DAYS: &[&str] = &[
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = name.to_lowercase();
    !DAYS.contains(&lower.as_str())
        && crate::analyse::month_number(&lower).is_none()
        && name.chars().count() >= 4
        && !text.lower_case_words.contains(&lower)
}

/// The words of a word diff's only replacement (`[-old-]{+new+}`), when it is the only change and
/// both sides are short.
fn single_replacement(diff: &str) -> Option<(&str, &str)> {
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
fn strip_block_prefix(text: &str) -> &str {
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

fn join_labels(labels: &[String]) -> String {
    match labels {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Drafts the memo of a change.
pub fn draft(
    input: &MemoInput<'_>,
    analysis: &Analysis,
    config: &MemoConfig,
    taxonomy: &Taxonomy,
) -> Memo {
    let mut writer = Writer {
        quotes: Vec::new(),
        taxonomy,
        before_plain: input.before.map(plain_text).unwrap_or_default(),
        after_plain: plain_text(input.after),
    };
    let (topics, labels) = topics_and_labels(analysis, input.terms_type, taxonomy);
    let title = writer.title(analysis, input.service, input.terms_type, &labels);
    let mut paragraphs = vec![opening(input, analysis, config)];
    // The lead says what changed: the substance first, then the dates the text states.
    let mut remaining = 0;
    if analysis.change_kind == ChangeKind::Substantive {
        remaining = writer.substance(analysis, &labels, &mut paragraphs);
    }
    let substance = paragraphs.len() > 1;
    writer.dates_and_announcement(input, analysis, &mut paragraphs);
    closing(analysis, remaining, &mut paragraphs);
    let body = paragraphs.join("\n\n");
    // The description is the lead: the most significant change when there is one.
    let description_source = if substance {
        &paragraphs[1]
    } else {
        paragraphs.get(1).unwrap_or(&paragraphs[0])
    };
    let front_matter = FrontMatter {
        title: title.clone(),
        html_description: format!(
            "<p>{}</p>",
            crate::basics::escape_html(&strip_markdown_links(description_source))
        ),
        service: input.service.to_string(),
        terms_types: vec![input.terms_type.to_string()],
        dates: vec![input.date.to_string()],
        author: config.author.clone(),
        related_collections: config.related_collections.clone(),
        commit: input.commit.map(str::to_string),
        previous_commit: input.previous_commit.map(str::to_string),
        change_kind: analysis.change_kind,
        reverts_to: analysis.reverts_to.clone(),
        significance: analysis.significance,
        topics,
        status: "draft".into(),
    };
    Memo {
        title,
        front_matter,
        body,
        quotes: writer.quotes,
        analysis: analysis.clone(),
    }
}

/// The change's topics, and their labels as a memo names them. A change with substance is
/// about something: when its words and headings name no topic, the document's terms type does.
fn topics_and_labels(
    analysis: &Analysis,
    terms_type: &str,
    taxonomy: &Taxonomy,
) -> (Vec<String>, Vec<String>) {
    let mut topics = analysis.topics.clone();
    if topics.is_empty()
        && analysis.change_kind == ChangeKind::Substantive
        && let Some(topic) = taxonomy.of_terms_type(terms_type)
    {
        topics.push(topic.name.clone());
    }
    let labels: Vec<String> = topics
        .iter()
        .map(|t| {
            taxonomy
                .get(t)
                .map_or_else(|| t.replace('_', " "), |topic| topic.label.clone())
        })
        .collect();
    (topics, labels)
}

/// The opening sentence: who did what to which document, when; the link (or the commit id)
/// on the action verb, the rest of the phrase after it.
fn opening(input: &MemoInput<'_>, analysis: &Analysis, config: &MemoConfig) -> String {
    let (service, terms) = (input.service, input.terms_type);
    let (verb, rest) = match analysis.change_kind {
        ChangeKind::Substantive => ("updated", " its"),
        ChangeKind::Cosmetic => ("made cosmetic changes", " to its"),
        ChangeKind::Revert => ("restored", " an earlier version of its"),
        ChangeKind::Technical => ("re-recorded", ""),
    };
    let linked_verb = match (input.commit, &config.commit_url) {
        (Some(commit), Some(template)) => {
            format!("[{verb}]({}){rest}", template.replace("{commit}", commit))
        }
        (Some(commit), None) => format!("{verb} (commit `{commit:.12}`){rest}"),
        (None, _) => format!("{verb}{rest}"),
    };
    match analysis.change_kind {
        ChangeKind::Technical => format!(
            "The {terms} of {service} was {linked_verb} on {}: the declaration or the extraction changed, not the document.",
            input.date
        ),
        ChangeKind::Revert => format!(
            "{service} {linked_verb} {terms} on {}: the text is again identical to the version recorded in commit `{:.12}`.",
            input.date,
            analysis.reverts_to.as_deref().unwrap_or("")
        ),
        _ => format!("{service} {linked_verb} {terms} on {}.", input.date),
    }
}

/// The closing lines: how many substantive changes the memo leaves out, and the cosmetic ones.
fn closing(analysis: &Analysis, remaining: usize, paragraphs: &mut Vec<String>) {
    if remaining > 0 {
        paragraphs.push(format!(
            "{remaining} other substantive change{} {} not described here.",
            plural(remaining),
            if remaining == 1 { "is" } else { "are" }
        ));
    }
    let cosmetic = analysis.changes.iter().filter(|c| c.cosmetic).count();
    if cosmetic > 0 && analysis.change_kind != ChangeKind::Revert {
        let also = if analysis.change_kind == ChangeKind::Substantive {
            " also"
        } else {
            ""
        };
        paragraphs.push(format!(
            "{cosmetic} cosmetic change{} (formatting, punctuation, links or order) {}{also} recorded.",
            plural(cosmetic),
            if cosmetic == 1 { "was" } else { "were" }
        ));
    }
}

impl Writer<'_> {
    /// The title: the news when a headline says it, else what the change is about.
    fn title(
        &mut self,
        analysis: &Analysis,
        service: &str,
        terms: &str,
        labels: &[String],
    ) -> String {
        let quoted = self.quotes.len();
        let headline = match analysis.change_kind {
            ChangeKind::Substantive => self.headline(analysis, service, terms),
            _ => None,
        };
        // A headline that would not fit is not cut (its quotation would be): the template serves.
        let headline = headline.filter(|h| h.chars().count() <= MAX_TITLE_CHARS);
        if headline.is_none() {
            self.quotes.truncate(quoted);
        }
        let mut title = match analysis.change_kind {
            ChangeKind::Substantive if headline.is_some() => headline.unwrap_or_default(),
            ChangeKind::Substantive if !labels.is_empty() => {
                let mut shown = labels.len().min(3);
                loop {
                    let title = format!(
                        "{service} changes its {terms} on {}",
                        join_labels(&labels[..shown])
                    );
                    if title.chars().count() <= MAX_TITLE_CHARS || shown == 1 {
                        break title;
                    }
                    shown -= 1;
                }
            }
            ChangeKind::Substantive => format!("{service} changes its {terms}"),
            ChangeKind::Cosmetic => format!("{service} makes cosmetic changes to its {terms}"),
            ChangeKind::Revert => format!("{service} restores an earlier version of its {terms}"),
            ChangeKind::Technical => {
                format!("{service} {terms} is re-recorded after a technical upgrade")
            }
        };
        if title.chars().count() > MAX_TITLE_CHARS {
            title = truncate_chars(&title, MAX_TITLE_CHARS).to_string();
        }
        title
            .trim_end_matches(['.', '!', '?', ':', ';', ','])
            .to_string()
    }

    /// The paragraphs of substance: one per topic (most significant first, three clauses at
    /// most), then the changes of no topic, eight clauses in all; returns how many substantive
    /// changes were left out.
    fn substance(
        &mut self,
        analysis: &Analysis,
        labels: &[String],
        paragraphs: &mut Vec<String>,
    ) -> usize {
        let substantive: Vec<&Change> = analysis.changes.iter().filter(|c| !c.cosmetic).collect();
        let mut described = vec![false; substantive.len()];
        let mut clauses_written = 0;
        for (topic, label) in analysis.topics.iter().zip(labels) {
            let mut clauses = Vec::new();
            for (index, change) in substantive.iter().enumerate() {
                if described[index]
                    || !change.topics.contains(topic)
                    || clauses.len() >= 3
                    || clauses_written >= 8
                {
                    continue;
                }
                described[index] = true;
                let quoted = self.quotes.len();
                let clause = self.clause(change, Some(topic));
                if clauses.contains(&clause) {
                    self.quotes.truncate(quoted);
                } else {
                    clauses.push(clause);
                    clauses_written += 1;
                }
            }
            if !clauses.is_empty() {
                paragraphs.push(format!("On {label}, it {}.", clauses.join("; it also ")));
            }
        }
        let mut others = Vec::new();
        for (index, change) in substantive.iter().enumerate() {
            if !described[index] && others.len() < 3 && clauses_written < 8 {
                described[index] = true;
                let quoted = self.quotes.len();
                let clause = self.clause(change, None);
                if others.contains(&clause) {
                    self.quotes.truncate(quoted);
                } else {
                    others.push(clause);
                    clauses_written += 1;
                }
            }
        }
        if !others.is_empty() {
            let lead = if paragraphs.len() > 1 {
                "It also"
            } else {
                "It"
            };
            paragraphs.push(format!("{lead} {}.", others.join("; it also ")));
        }
        described.iter().filter(|d| !**d).count()
    }

    /// The dates the versions state, and the change the text announces.
    fn dates_and_announcement(
        &mut self,
        input: &MemoInput<'_>,
        analysis: &Analysis,
        paragraphs: &mut Vec<String>,
    ) {
        match (&analysis.effective_date, &analysis.previous_effective_date) {
            (Some(new), Some(old)) if new != old => paragraphs.push(format!(
                "The new version is dated {new}; the previous one was dated {old}."
            )),
            (Some(new), None) => paragraphs.push(format!("The new version is dated {new}.")),
            _ => {}
        }
        if let Some(announcement) = &analysis.announced_change {
            let side = if input.after.contains(&announcement.text) {
                Side::After
            } else {
                Side::Before
            };
            let quote = self.quote(&announcement.text, side);
            let which = if side == Side::After {
                "new"
            } else {
                "previous"
            };
            paragraphs.push(format!(
                "The {which} version announces a change taking effect on {}: {quote}.",
                announcement.date
            ));
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn strip_markdown_links(text: &str) -> String {
    use std::sync::OnceLock;
    static LINK: OnceLock<regex::Regex> = OnceLock::new();
    LINK.get_or_init(|| regex::Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("valid regex"))
        .replace_all(text, "$1")
        .into_owned()
}

impl Memo {
    /// Says which policy facts the change changed ("Does it train AI on people's data? Now yes,
    /// was not stated: it now says it uses your conversations to train its models, “…”."),
    /// quoting the evidence when it is in this change's versions of `terms_type`.
    pub fn mention_fact_changes(&mut self, changes: &[crate::facts::FactChange], terms_type: &str) {
        let service = self.front_matter.service.clone();
        let commit = self.front_matter.commit.clone().unwrap_or_default();
        let previous = self
            .front_matter
            .previous_commit
            .clone()
            .unwrap_or_default();
        let mut sentences = Vec::new();
        for change in changes {
            let mut sentence =
                format!("{} Now {}, was {}", change.question, change.to, change.from);
            let ours = change.evidence.iter().find(|e| {
                e.terms_type == terms_type && (e.commit == commit || e.commit == previous)
            });
            if let Some(evidence) = ours {
                let side = if evidence.commit == commit {
                    Side::After
                } else {
                    Side::Before
                };
                let says = if side == Side::After {
                    "now says"
                } else {
                    "said"
                };
                if let Some(statement) = statement::retell(&evidence.quote, &service) {
                    let told = statement.headline(&service, true);
                    // "X now says it …" → "it now says it …", after the answer.
                    if let Some(rest) = told.strip_prefix(&format!("{service} now says ")) {
                        sentence.push_str(&format!(": it {says} {rest}"));
                    }
                }
                sentence.push_str(&format!(" (“{}”)", evidence.quote));
                self.quotes.push(Quote {
                    text: evidence.quote.clone(),
                    side,
                });
            }
            sentences.push(format!("{sentence}."));
        }
        if !sentences.is_empty() {
            self.body
                .push_str(&format!("\n\nPolicy facts: {}", sentences.join(" ")));
        }
    }

    /// The memo file: front matter, then the body.
    pub fn to_markdown(&self) -> String {
        let front = crate::yaml::to_string(&self.front_matter).unwrap_or_default();
        format!("---\n{front}---\n\n{}\n", self.body)
    }

    /// The sidecar: everything of the memo and its analysis.
    pub fn record(&self, service_id: &str, terms_type: &str) -> MemoRecord {
        MemoRecord::of(self, service_id, terms_type)
    }
}

/// Drafts the memo of a change recorded in a versions repository (`None` for a first record).
pub fn for_recorded_change(
    repository: &VersionsRepository,
    change: &VersionChange,
    service_name: &str,
    config: &MemoConfig,
    taxonomy: &Taxonomy,
) -> Result<Option<Memo>> {
    let Some((previous_commit, previous_blob)) = change.earlier.first() else {
        return Ok(None);
    };
    let after = repository.blob_text(change.blob)?;
    let before = repository.blob_text(*previous_blob)?;
    let change = ChangeToDraft {
        service: service_name,
        terms_type: &change.terms_type,
        date: change.date,
        commit: &change.commit,
        previous_commit,
        kind: change.kind(),
        reverts_to: change.reverts_to(),
        before: &before,
        after: &after,
    };
    Ok(Some(for_change(&change, config, taxonomy)))
}

/// A recorded change, as drafting is handed it: both texts and what recording decided.
#[derive(Debug, Clone, Copy)]
pub struct ChangeToDraft<'a> {
    /// The service's name.
    pub service: &'a str,
    /// The terms type.
    pub terms_type: &'a str,
    /// The commit's date.
    pub date: chrono::DateTime<chrono::Utc>,
    /// The commit of the new version.
    pub commit: &'a str,
    /// The commit of the version it replaces.
    pub previous_commit: &'a str,
    /// The version's kind, as recording decided it.
    pub kind: VersionKind,
    /// For a revert, the earlier commit whose text came back.
    pub reverts_to: Option<&'a str>,
    /// The text it replaces.
    pub before: &'a str,
    /// The new text.
    pub after: &'a str,
}

/// Drafts the memo of a recorded change from the texts it is handed (nothing is read from the
/// repository).
pub fn for_change(change: &ChangeToDraft<'_>, config: &MemoConfig, taxonomy: &Taxonomy) -> Memo {
    let analysis = crate::analyse::analyse(
        Some(change.before),
        change.after,
        change.reverts_to,
        change.kind == VersionKind::TechnicalUpgrade,
        taxonomy,
    );
    let date = change.date.format("%Y-%m-%d").to_string();
    let input = MemoInput {
        service: change.service,
        terms_type: change.terms_type,
        date: &date,
        commit: Some(change.commit),
        previous_commit: Some(change.previous_commit),
        before: Some(change.before),
        after: change.after,
    };
    draft(&input, &analysis, config, taxonomy)
}

/// Drafts the memo of the change between two texts that are not in a repository (no commit
/// is named, no revert can be known).
pub fn for_texts(
    before: &str,
    after: &str,
    service: &str,
    terms_type: &str,
    date: &str,
    config: &MemoConfig,
) -> Memo {
    let taxonomy = Taxonomy::with_additions(&config.topics);
    let analysis = crate::analyse::analyse(Some(before), after, None, false, &taxonomy);
    let input = MemoInput {
        service,
        terms_type,
        date,
        commit: None,
        previous_commit: None,
        before: Some(before),
        after,
    };
    draft(&input, &analysis, config, &taxonomy)
}

/// What [`draft_all`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// Changes analysed (first records have no memo).
    pub analysed: usize,
    /// Memos written.
    pub written: usize,
    /// Reviewed memos kept as they are.
    pub kept_reviewed: usize,
}

/// Drafts the memo of every change of a repository in OTA's layout (those recorded at or after
/// `since`, when given) into `store`. Services are named by their ids.
///
/// Memos are drafted on every core (each thread with its own handle on the repository), in
/// batches, and written in history order by this thread: the same repository gives the same
/// files, whatever the number of cores.
pub fn draft_all(
    repository: &VersionsRepository,
    since: Option<chrono::DateTime<chrono::Utc>>,
    config: &MemoConfig,
    store: &MemoStore,
) -> Result<BatchSummary> {
    const BATCH: usize = 512;
    let taxonomy = Taxonomy::with_additions(&config.topics);
    let changes = repository.version_changes(since)?;
    let workers = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(1)
        .clamp(1, 8);
    let path = repository.path().to_path_buf();
    let mut summary = BatchSummary::default();
    for batch in changes.chunks(BATCH) {
        let share = batch.len().div_ceil(workers);
        let drafted: Vec<Result<Vec<Option<Memo>>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .chunks(share.max(1))
                .map(|part| {
                    let (taxonomy, path) = (&taxonomy, &path);
                    scope.spawn(move || -> Result<Vec<Option<Memo>>> {
                        let own = VersionsRepository::open(path)?;
                        part.iter()
                            .map(|change| {
                                for_recorded_change(
                                    &own,
                                    change,
                                    &change.service_id,
                                    config,
                                    taxonomy,
                                )
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(Error::internal("drafting memos", "a thread panicked"))
                    })
                })
                .collect()
        });
        let mut memos = Vec::with_capacity(batch.len());
        for part in drafted {
            memos.extend(part?);
        }
        for (change, memo) in batch.iter().zip(memos) {
            let Some(memo) = memo else {
                continue;
            };
            summary.analysed += 1;
            match store.write(&memo, &change.service_id, &change.terms_type)? {
                Stored::Written(_) => summary.written += 1,
                Stored::KeptReviewed(_) => summary.kept_reviewed += 1,
            }
        }
    }
    Ok(summary)
}

/// Drafts the memo of one document's change: the one recorded by `commit` (any revision git
/// understands), else the latest.
pub fn draft_for_document(
    repository: &VersionsRepository,
    service_id: &str,
    terms_type: &str,
    commit: Option<&str>,
    config: &MemoConfig,
) -> Result<Memo> {
    let taxonomy = Taxonomy::with_additions(&config.topics);
    let wanted = commit.map(|c| repository.resolve(c)).transpose()?;
    let changes = repository.document_changes(service_id, terms_type)?;
    let change = changes
        .iter()
        .rev()
        .find(|c| wanted.as_ref().is_none_or(|w| &c.commit == w))
        .ok_or_else(|| {
            Error::argument(match &wanted {
                Some(commit) => {
                    format!("commit {commit} records no version of {service_id} {terms_type}")
                }
                None => format!(
                    "{} holds no version of {service_id} {terms_type}",
                    repository.path().display()
                ),
            })
        })?;
    for_recorded_change(repository, change, service_id, config, &taxonomy)?.ok_or_else(|| {
        Error::argument(format!(
            "commit {} is the first record of {service_id} {terms_type}: there is no change to describe",
            change.commit
        ))
    })
}

/// A file-name-safe slug: lower case, ASCII letters and digits, single dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "document".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::analyse;

    fn memo_for(before: &str, after: &str) -> Memo {
        let taxonomy = Taxonomy::default();
        let input = MemoInput {
            service: "Instagram",
            terms_type: "Privacy Policy",
            date: "2025-12-16",
            commit: Some("0123456789abcdef0123"),
            previous_commit: Some("fedcba"),
            before: Some(before),
            after,
        };
        draft(
            &input,
            &analyse(Some(before), after, None, false, &taxonomy),
            &MemoConfig::default(),
            &taxonomy,
        )
    }

    #[test]
    fn titles_say_what_changed_in_the_texts_own_words_when_they_can() {
        // The title of the change, after checking that every quotation is verbatim.
        let title = |before: &str, after: &str| {
            let memo = memo_for(before, after);
            for quote in &memo.quotes {
                let version = if quote.side == Side::After {
                    after
                } else {
                    before
                };
                assert!(quote.is_verbatim_in(version), "{quote:?}");
            }
            memo.title
        };
        assert_eq!(
            title(
                "Ads\n===\n\nWe do not allow ads for pharmacies or weapons.\n\nOther rules apply.",
                "Ads\n===\n\nWe do not allow ads for casinos or weapons.\n\nOther rules apply.",
            ),
            "Instagram replaces “pharmacies” with “casinos” in its Privacy Policy"
        );
        assert_eq!(
            title(
                "Policy\n======\n\nWe keep your data safe.",
                "Policy\n======\n\nWe keep your data safe. Lumen Labs helps us. We share data with \
                 Lumen Labs for research; Lumen Labs keeps it 30 days.",
            ),
            "Instagram now says it shares data with Lumen Labs for research"
        );
        // No sentence to retell: the name the new text brings in and repeats.
        assert_eq!(
            title(
                "Policy\n======\n\nWe keep your data safe.",
                "Policy\n======\n\nWe keep your data safe. Lumen Labs helps. Data goes to \
                 Lumen Labs for research; Lumen Labs keeps it 30 days.",
            ),
            "Instagram now mentions “Lumen Labs” in its Privacy Policy"
        );
        // A list item removed whole is quoted.
        assert_eq!(
            title(
                "Hate speech\n===========\n\n*   Slurs\n*   Misgendering of transgender people\n",
                "Hate speech\n===========\n\n*   Slurs\n",
            ),
            "Instagram removes “Misgendering of transgender people” from its Privacy Policy"
        );
    }

    #[test]
    fn quotes_are_verbatim_and_the_title_follows_the_rules() {
        let before = "Privacy Policy\n==============\n\nEffective June 1, 2025\n\n*   Your activity\n\nWe show ads.";
        let after = "Privacy Policy\n==============\n\nEffective December 16, 2025\n\n*   Your activity\n*   Your interactions with AI features, like the questions you ask\n\nWe show ads. We use your AI interactions to personalise the ads you see.";
        let memo = memo_for(before, after);
        assert!(memo.title.chars().count() <= 140);
        assert!(!memo.title.ends_with('.'));
        assert!(
            memo.title
                == "Instagram adds “Your interactions with AI features, like the questions you ask” to its Privacy Policy",
            "{}",
            memo.title
        );
        assert!(
            memo.body.starts_with(
                "Instagram updated (commit `0123456789ab`) its Privacy Policy on 2025-12-16."
            ),
            "{}",
            memo.body
        );
        assert!(
            memo.body
                .contains("dated 2025-12-16; the previous one was dated 2025-06-01"),
            "{}",
            memo.body
        );
        assert!(!memo.quotes.is_empty());
        for quote in &memo.quotes {
            let version = if quote.side == Side::After {
                after
            } else {
                before
            };
            assert!(
                quote.is_verbatim_in(version),
                "{quote:?} not in the version"
            );
        }
        let markdown = memo.to_markdown();
        assert!(markdown.starts_with("---\ntitle: "));
        assert!(markdown.contains("status: draft"));
        assert!(markdown.contains("change_kind: substantive"));
    }

    #[test]
    fn commit_link_goes_on_the_verb() {
        let taxonomy = Taxonomy::default();
        let config = MemoConfig {
            commit_url: Some("https://example.org/c/{commit}".into()),
            ..MemoConfig::default()
        };
        let input = MemoInput {
            service: "X",
            terms_type: "Terms of Service",
            date: "2025-01-01",
            commit: Some("abc"),
            previous_commit: None,
            before: Some("a"),
            after: "b c d",
        };
        let memo = draft(
            &input,
            &analyse(Some("a"), "b c d", None, false, &taxonomy),
            &config,
            &taxonomy,
        );
        assert!(
            memo.body
                .starts_with("X [updated](https://example.org/c/abc) its Terms of Service"),
            "{}",
            memo.body
        );
    }

    #[test]
    fn never_overwrites_another_memo() {
        let dir = tempfile::tempdir().unwrap();
        let first = memo_for("We collect data.", "We collect more data.");
        let second = {
            let mut m = memo_for("We share data.", "We share data with partners.");
            m.front_matter.commit = Some("another".into());
            m
        };
        let store = MemoStore::new(dir.path());
        let a = store.write(&first, "Instagram", "Privacy Policy").unwrap();
        let b = store.write(&second, "Instagram", "Privacy Policy").unwrap();
        assert_ne!(a, b);
        assert!(
            b.path()
                .to_string_lossy()
                .ends_with("2025-12-16-instagram-privacy-policy-2.md")
        );
        let again = store.write(&first, "Instagram", "Privacy Policy").unwrap();
        assert_eq!(again, a, "the same change's memo is rewritten in place");
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(super::store::StoredMemo::is_draft));
        let first_record = first.record("Instagram", "Privacy Policy");
        assert!(listed.iter().any(|m| m.record == first_record));
    }

    #[test]
    fn a_reviewed_memo_is_kept_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoStore::new(dir.path());
        let memo = memo_for("We collect data.", "We collect more data.");
        let path = store
            .write(&memo, "Instagram", "Privacy Policy")
            .unwrap()
            .written()
            .unwrap();
        let reviewed = std::fs::read_to_string(&path)
            .unwrap()
            .replace("status: draft", "status: published");
        std::fs::write(&path, &reviewed).unwrap();
        let again = store.write(&memo, "Instagram", "Privacy Policy").unwrap();
        assert_eq!(again, Stored::KeptReviewed(path.clone()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), reviewed);
        assert_eq!(store.list().unwrap()[0].status, "published");
    }
}
