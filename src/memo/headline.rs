//! The headline: a one-sentence, present-tense title with the service as its subject, saying
//! the news of a change when its words say it (a statement of practice, a telling new name);
//! the template titles otherwise.

use super::statement;
use super::write::{Writer, single_replacement, strip_block_prefix};
use super::{LIST_ITEM_WORDS, MAX_TITLE_CHARS, STATEMENT_CANDIDATES, Side};
use crate::analyse::{Analysis, BlockChange, Change, one_spelling, plain_text, sentences};
use crate::structure::entities;

pub(super) const HEADLINE_STOP_WORDS: &[&str] = &[
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
pub(super) fn phrases(text: &str) -> Vec<(String, String)> {
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
    pub(super) fn headline(
        &mut self,
        analysis: &Analysis,
        service: &str,
        terms: &str,
    ) -> Option<String> {
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
        // The statements tried for a title: the most significant changes, and then the changes
        // on the weightiest topic among them (a purpose added on AI outweighs a reworded
        // sharing clause even where fewer words changed).
        let mut tried: Vec<&Change> = ranked.iter().take(STATEMENT_CANDIDATES).copied().collect();
        let weight = |change: &Change| {
            change
                .topics
                .iter()
                .filter_map(|topic| self.taxonomy.get(topic))
                .map(|topic| topic.weight)
                .fold(0.0, f64::max)
        };
        let weightiest = ranked.iter().map(|c| weight(c)).fold(0.0, f64::max);
        tried.extend(
            ranked
                .iter()
                .skip(STATEMENT_CANDIDATES)
                .filter(|c| weightiest > 0.0 && weight(c) >= weightiest)
                .take(STATEMENT_CANDIDATES),
        );
        for change in tried {
            if let Some(title) = self.statement_headline(change, service, terms) {
                return Some(title);
            }
        }
        if let Some(title) = self.entity_headline(&ranked, service, terms) {
            return Some(title);
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
            if before.has_phrase(&key)
                || !seen.insert(key.clone())
                || key.contains('\'')
                || key
                    .split(' ')
                    .any(|w| w.starts_with("here") || w.starts_with("there"))
            {
                continue;
            }
            // A phrase repeated three times is what the new text is about; fewer is incidental.
            let count = after.phrase_count(&key);
            if count >= 3 && key.split(' ').all(|w| w.chars().count() >= 3) {
                candidates.push((count, 2, phrase));
            }
        }
        let old_names = crate::analyse::significance::names(&self.before_plain);
        for name in crate::analyse::significance::names(&added) {
            let lower = name.to_lowercase();
            if !old_names.contains(&name)
                && !before.has_word(&lower)
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
                    && !after.has_word(&name.to_lowercase())
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
    /// A headline from the entities a change swaps or brings in: a country or a company of a
    /// rule replaced by another ("X replaces “Belgium” with “Ireland” in its …") — the old one
    /// gone from the new version, the new one absent from the previous — or countries the
    /// policy names for the first time ("X now mentions “Nigeria” and “South Korea” …").
    fn entity_headline(
        &mut self,
        ranked: &[&Change],
        service: &str,
        terms: &str,
    ) -> Option<String> {
        type Finder = fn(&str) -> Vec<&str>;
        let finders: [Finder; 2] = [entities::organisations, entities::countries];
        let top = &ranked[..ranked.len().min(STATEMENT_CANDIDATES)];
        let side_text = |pick: fn(&Change) -> Option<&str>| -> String {
            top.iter()
                .filter_map(|c| pick(c))
                .map(plain_text)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let removed = side_text(|c| c.before.as_deref());
        let changed = side_text(|c| c.after.as_deref());
        for find in finders {
            let gone: Vec<&str> = find(&removed)
                .into_iter()
                .filter(|e| !self.after_plain.contains(e))
                .collect();
            let came: Vec<&str> = find(&changed)
                .into_iter()
                .filter(|e| !self.before_plain.contains(e))
                .collect();
            if let ([gone], [came]) = (gone.as_slice(), came.as_slice()) {
                let (gone, came) = (gone.to_string(), came.to_string());
                return Some(format!(
                    "{service} replaces {} with {} in its {terms}",
                    self.quote(&gone, Side::Before),
                    self.quote(&came, Side::After)
                ));
            }
        }
        let new_countries: Vec<String> = entities::countries(&changed)
            .into_iter()
            .filter(|country| !self.before_plain.contains(country))
            .take(3)
            .map(str::to_string)
            .collect();
        if new_countries.is_empty() {
            return None;
        }
        let quoted: Vec<String> = new_countries
            .iter()
            .map(|country| self.quote(country, Side::After))
            .collect();
        Some(format!(
            "{service} now mentions {} in its {terms}",
            super::draft::join_labels(&quoted)
        ))
    }

    /// A headline from one change: a sentence it adds or removes, retold with the service as
    /// subject ("X now says it may remove accounts…"), or a list item it adds or removes
    /// ("X removes “Misgendering…” from its Community Guidelines").
    pub(super) fn statement_headline(
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
        // "Now says" only what the previous version did not say, "no longer says" only what the
        // new one does not.
        let other = if added { Side::Before } else { Side::After };
        for sentence in &candidates {
            let plain = plain_text(sentence);
            if self.version_holds(other, &plain) {
                continue;
            }
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
        let still_there = match change.kind {
            BlockChange::Added => self.before_plain.contains(plain.trim()),
            _ => self.after_plain.contains(plain.trim()),
        };
        if still_there || !is_list_item || plain.contains('\n') {
            return None;
        }
        // An item that finishes its lead-in's sentence ("we may use your personal information:"
        // + "To train our … models") is told as that sentence.
        if let Some(title) = change
            .lead_in
            .as_deref()
            .and_then(|lead_in| completed_lead_in(lead_in, plain.trim()))
            .and_then(|sentence| statement::retell(&sentence, service))
            .map(|statement| statement.headline(service, added))
            .filter(|title| title.chars().count() <= MAX_TITLE_CHARS)
        {
            return Some(title);
        }
        // An item of a list of what is not allowed says what the change allows or forbids.
        if change.lead_in.as_deref().is_some_and(forbids) {
            // The item's own words, its label ("Election integrity: …") left out.
            let item = plain.trim();
            let item = match item.split_once(": ") {
                Some((label, rest)) if label.split_whitespace().count() <= 4 => rest,
                _ => item,
            };
            return self.item_title(item, added, |quoted| {
                if added {
                    format!("{service} adds {quoted} to what it does not allow")
                } else {
                    format!("{service} no longer lists {quoted} among what it does not allow")
                }
            });
        }
        if !(2..=LONGEST_LIST_ITEM_WORDS).contains(&words) {
            return None;
        }
        self.item_title(plain.trim(), added, |quoted| {
            if added {
                format!("{service} adds {quoted} to its {terms}")
            } else {
                format!("{service} removes {quoted} from its {terms}")
            }
        })
    }

    /// A title quoting a list item: as many of its first words as the title has room for (an
    /// ellipsis when some are left out), quoted from the version that holds it.
    fn item_title(
        &mut self,
        item: &str,
        added: bool,
        title: impl Fn(&str) -> String,
    ) -> Option<String> {
        let side = if added { Side::After } else { Side::Before };
        let item = item.trim_end_matches(['.', ';', ',', ':']).trim();
        for most in (MIN_ITEM_WORDS..=LIST_ITEM_WORDS).rev() {
            let shown = first_words(item, most);
            let quoted = self.quote(shown, side);
            let ellipsis = if shown.len() < item.len() && !quoted.ends_with('…') {
                "…"
            } else {
                ""
            };
            let told = title(&format!("{quoted}{ellipsis}"));
            if told.chars().count() <= MAX_TITLE_CHARS {
                return Some(told);
            }
            self.quotes.pop();
        }
        None
    }
}

/// The most words of a list item a title may quote the start of (a longer item is a paragraph
/// set out as a list).
const LONGEST_LIST_ITEM_WORDS: usize = 30;

/// The fewest words of a list item a title quotes.
const MIN_ITEM_WORDS: usize = 4;

/// Whether a list's lead-in says that what it lists is not allowed.
pub(super) fn forbids(lead_in: &str) -> bool {
    let lower = lead_in.to_lowercase().replace('’', "'");
    [
        "not allowed",
        "agree not to",
        "will not",
        "won't",
        "don't post",
        "do not post",
        "don't allow",
        "do not allow",
        "prohibit",
        "may not",
        "must not",
        "not permitted",
        "forbidden",
        "isn't allowed",
        "aren't allowed",
    ]
    .iter()
    .any(|cue| lower.contains(cue))
}

/// The first `most` words of a text (its whole when shorter), cut before a trailing comma.
fn first_words(text: &str, most: usize) -> &str {
    match text.split_whitespace().nth(most) {
        None => text.trim_end_matches(['.', ';', ',', ':']),
        Some(word) => {
            let at = word.as_ptr() as usize - text.as_ptr() as usize;
            let mut shown = text[..at].trim_end().trim_end_matches([',', ';', ':']);
            // A cut quotation does not end on a word that needs what follows ("…majority of").
            while let Some((rest, last)) = shown.rsplit_once(' ') {
                if !matches!(
                    last.to_lowercase().as_str(),
                    "of" | "the"
                        | "a"
                        | "an"
                        | "to"
                        | "in"
                        | "for"
                        | "and"
                        | "or"
                        | "with"
                        | "by"
                        | "on"
                        | "that"
                        | "as"
                ) {
                    break;
                }
                shown = rest.trim_end_matches([',', ';', ':']);
            }
            shown
        }
    }
}

/// The sentence a list item completes: a lead-in that breaks off a sentence at its colon ("we
/// may use your personal information:") followed by an item that goes on with a purpose ("To
/// train our models;"), as one sentence without the lead-in's opening qualifier.
fn completed_lead_in(lead_in: &str, item: &str) -> Option<String> {
    let lead_in = plain_text(lead_in);
    let lead_in = lead_in.trim().strip_suffix(':')?.trim_end();
    let (first, rest) = item.split_once(' ')?;
    if !matches!(first, "To" | "For") || rest.split_whitespace().count() < 3 {
        return None;
    }
    // "To the extent permitted by law, we may use …": the qualifier is not the news.
    let lead_in = match lead_in.split_once(", ") {
        Some((qualifier, main)) if !qualifier.contains(" we ") && main.starts_with("we ") => main,
        _ => lead_in,
    };
    let rest = rest.trim_end_matches([';', '.', ',']);
    let rest = rest
        .strip_suffix(" and")
        .or_else(|| rest.strip_suffix(" or"))
        .unwrap_or(rest)
        .trim_end_matches([';', ',']);
    // "… for the purposes outlined in this policy", "… as described above": pointers, not news.
    let rest = [
        " for the purposes ",
        " as described ",
        " as set out ",
        " as outlined ",
    ]
    .iter()
    .filter_map(|pointer| rest.find(pointer))
    .min()
    .map_or(rest, |end| &rest[..end]);
    let mut letters = lead_in.chars();
    let capital: String = letters.next()?.to_uppercase().collect();
    Some(format!(
        "{capital}{} {} {rest}.",
        letters.as_str(),
        first.to_lowercase()
    ))
}

/// The words of a plain text, counted once.
pub(super) struct Vocabulary {
    /// Each word as written, with its count.
    as_written: rustc_hash::FxHashMap<String, usize>,
    /// Every word, in lower case and one spelling (British and American alike).
    words_lower: rustc_hash::FxHashSet<String>,
    /// Words the text writes in lower case (so common words, not names).
    lower_case_words: rustc_hash::FxHashSet<String>,
    /// Two-word phrases, in lower case and one spelling, with their count.
    bigrams: rustc_hash::FxHashMap<String, usize>,
}
// (Fx hashing: these maps hold a whole version's words, built for every memo whose title falls
// back on them, and need no protection against chosen keys.)

impl Vocabulary {
    pub(super) fn of(text: &str) -> Self {
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
                    .entry(format!("{previous} {}", one_spelling(&lower)))
                    .or_default() += 1;
            }
            vocabulary
                .words_lower
                .insert(one_spelling(&lower).into_owned());
            previous = Some(one_spelling(&lower).into_owned());
        }
        vocabulary
    }

    /// Whether the text has this lower-case word, in either spelling ("centre", "center").
    fn has_word(&self, lower: &str) -> bool {
        self.words_lower.contains(one_spelling(lower).as_ref())
    }

    /// Whether the text has this lower-case two-word phrase, in either spelling.
    fn has_phrase(&self, lower: &str) -> bool {
        self.bigrams.contains_key(&spelled_one_way(lower))
    }

    /// How many times the text has this lower-case two-word phrase.
    fn phrase_count(&self, lower: &str) -> usize {
        self.bigrams
            .get(&spelled_one_way(lower))
            .copied()
            .unwrap_or(0)
    }
}

/// A lower-case phrase with each word in one spelling.
fn spelled_one_way(lower: &str) -> String {
    lower
        .split(' ')
        .map(|word| one_spelling(word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a capitalised word is a name worth a title: not a month or a day, not a common word
/// that a heading or a sentence start capitalised (the text also writes it in lower case).
pub(super) fn is_telling_name(name: &str, text: &Vocabulary) -> bool {
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
