//! Reading one version of a document for the facts: the sentences that answer each rule
//! ([`Hit`]s, yes or no — a negated yes is a no — or a value), with the regions they or their
//! section heading name, and what a change touched.

use std::sync::OnceLock;

use regex::Regex;

use super::rules::{Context, Rule, RuleKind, Rules};
use super::{Hit, Says};
use crate::analyse::{plain_text, sentences};

/// Regions, as named in texts.
pub(super) fn region_patterns() -> &'static [(&'static str, Regex)] {
    static PATTERNS: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (
                "EU/EEA",
                r"\b(EU|EEA|European Union|European Economic Area|GDPR|Europe)\b",
            ),
            ("UK", r"\b(UK|U\.K\.|United Kingdom|Great Britain)\b"),
            ("US", r"\b(US|U\.S\.|USA|United States)\b"),
            ("California", r"\b(California|CCPA|CPRA)\b"),
            ("Switzerland", r"\b(Switzerland|Swiss)\b"),
            ("Brazil", r"\b(Brazil|LGPD)\b"),
            ("Canada", r"\bCanada\b"),
            ("South Korea", r"\b(South Korea|Republic of Korea)\b"),
            ("Japan", r"\bJapan\b"),
            ("India", r"\bIndia\b"),
            ("Australia", r"\bAustralia\b"),
            ("Nigeria", r"\bNigeria\b"),
        ]
        .into_iter()
        .map(|(name, pattern)| (name, Regex::new(pattern).expect("valid region pattern")))
        .collect()
    })
}

/// The regions a text names. Text in capitals ("CONTACT US") names none.
pub fn regions_in(text: &str) -> Vec<String> {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = text.chars().filter(|c| c.is_uppercase()).count();
    if letters > 0 && capitals * 10 > letters * 6 {
        return Vec::new();
    }
    region_patterns()
        .iter()
        .filter(|(_, pattern)| pattern.is_match(text))
        .map(|(name, _)| name.to_string())
        .collect()
}

pub(super) fn negation() -> &'static Regex {
    static NEGATION: OnceLock<Regex> = OnceLock::new();
    NEGATION.get_or_init(|| {
        Regex::new(r"(?i)\b(no|not|never|no longer|cannot|can't|won't|don't|doesn't|didn't|isn't|aren't|nor|without)\b")
            .expect("valid negation pattern")
    })
}

pub(super) fn clause_boundary() -> &'static Regex {
    static BOUNDARY: OnceLock<Regex> = OnceLock::new();
    BOUNDARY.get_or_init(|| {
        Regex::new(r"(?i)[;:(—–]|,\s+(but|however|although|while|whereas|and we|and you|we|you|it|they|which)\b|\b(but|however)\b")
            .expect("valid clause boundary pattern")
    })
}

pub(super) fn condition() -> &'static Regex {
    static CONDITION: OnceLock<Regex> = OnceLock::new();
    CONDITION.get_or_init(|| {
        Regex::new(r"(?i)\b(if|unless|whether|until|except)\b").expect("valid condition pattern")
    })
}

/// Whether the clause before `at` negates what follows: "we do not use your data to train" —
/// but not "if you do not want us to train…", a condition.
pub(super) fn is_negated(sentence: &str, at: usize) -> bool {
    let before = sentence[..at].replace('’', "'");
    // A negation reaches across a list ("we do not engage in ads, sell data or …") but not
    // into the next clause ("…, but we use it to train…").
    let clause_start = clause_boundary()
        .find_iter(&before)
        .last()
        .map_or(0, |m| m.end());
    let clause = &before[clause_start..];
    // "Not only", "not replace", "not limited to" qualify what follows; they do not deny it.
    let denies = |negated: &regex::Match<'_>| {
        let next = clause[negated.end()..].trim_start_matches([' ', ',']);
        ![
            "only",
            "just",
            "replace",
            "limited",
            "necessarily",
            "solely",
        ]
        .iter()
        .any(|word| next.starts_with(word))
    };
    match negation().find_iter(clause).find(denies) {
        Some(negated) => !condition().is_match(&clause[..negated.start()]),
        None => false,
    }
}

/// What a section heading says for a rule about an item under it: the heading meets a `yes`
/// pattern (a negated one says no) and the item meets `requires` itself.
fn heading_says(rule: &Rule, heading: &str, item: &str) -> Option<Says> {
    if heading.is_empty() || heading.ends_with('?') || rule.ignore.iter().any(|p| p.is_match(item))
    {
        return None;
    }
    if !rule.requires.is_empty() && !rule.requires.iter().any(|p| p.is_match(item)) {
        return None;
    }
    let found = rule.yes.iter().find_map(|p| p.find(heading))?;
    Some(
        if is_negated(heading, found.start()) || denies_within(found.as_str()) {
            Says::No
        } else {
            Says::Yes
        },
    )
}

/// Whether a matched span denies itself before its first clause ends: "chats are not being
/// used to show you ads".
fn denies_within(span: &str) -> bool {
    let span = span.replace('’', "'");
    let first_clause = clause_boundary()
        .find(&span)
        .map_or(span.as_str(), |boundary| &span[..boundary.start()]);
    is_negated(first_clause, first_clause.len())
}

/// What a sentence says for a rule, if anything; `context` (its heading, the sentence before)
/// may meet the rule's `requires`.
pub(super) fn judge(rule: &Rule, sentence: &str, context: &str) -> Option<Says> {
    if rule.ignore.iter().any(|p| p.is_match(sentence)) {
        return None;
    }
    if !rule.requires.is_empty()
        && !rule
            .requires
            .iter()
            .any(|p| p.is_match(sentence) || p.is_match(context))
    {
        return None;
    }
    if let Some(value) = &rule.value {
        let captures = value.captures(sentence)?;
        let found = captures.name("value")?.as_str().trim();
        return Some(Says::Value(found.to_string()));
    }
    if let Some(found) = rule.yes.iter().find_map(|p| p.find(sentence)) {
        // The negation may come before the match or within it ("your chats are not being used
        // to show you ads").
        return Some(
            if is_negated(sentence, found.start()) || denies_within(found.as_str()) {
                Says::No
            } else {
                Says::Yes
            },
        );
    }
    rule.no
        .iter()
        .any(|p| p.is_match(sentence))
        .then_some(Says::No)
}

/// The text of a line without its list, quotation or table marker (still a slice of it).
pub(super) fn strip_marker(line: &str) -> &str {
    let trimmed = line.trim_start().trim_start_matches('>').trim_start();
    for marker in ["* ", "- ", "+ ", "• "] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            return rest.trim_start();
        }
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && trimmed[digits..].starts_with(". ") {
        return trimmed[digits + 2..].trim_start();
    }
    trimmed
}

/// The sentences of one version of a document that answer each rule (by the rules' order);
/// rules that do not read this terms type get none.
pub fn read_document(text: &str, terms_type: &str, rules: &Rules) -> Vec<Vec<Hit>> {
    read_document_for(
        text,
        terms_type,
        rules,
        &(0..rules.rules.len()).collect::<Vec<_>>(),
    )
}

/// [`read_document`] with only the rules at `only` (the others get no hits). The rules are not
/// copied: a copied pattern would start with a cold search cache.
pub(super) fn read_document_for(
    text: &str,
    terms_type: &str,
    rules: &Rules,
    only: &[usize],
) -> Vec<Vec<Hit>> {
    let hits: Vec<Vec<Hit>> = vec![Vec::new(); rules.rules.len()];
    let reading: Vec<usize> = only
        .iter()
        .copied()
        .filter(|&i| rules.rules[i].reads(terms_type))
        .collect();
    if reading.is_empty() {
        return hits;
    }
    let plain = plain_text(text);
    read_plain_for(&plain, &lines_under_headings(&plain), rules, reading, hits)
}

/// [`read_document_for`] on a document's plain text and its lines, the rules already narrowed
/// to those that read its terms type.
pub(super) fn read_plain_for(
    plain: &str,
    lines: &[Line<'_>],
    rules: &Rules,
    reading: Vec<usize>,
    mut hits: Vec<Vec<Hit>>,
) -> Vec<Vec<Hit>> {
    // Rules whose patterns find nothing in the whole text cannot be answered by a sentence.
    let reading = could_answer_in(rules, &reading, plain);
    if reading.is_empty() {
        return hits;
    }
    for line in lines {
        read_line(rules, &reading, line, &mut hits);
    }
    hits
}

/// The rules of `reading` whose patterns find something in `text` (a rule with anchors, which
/// has no whole-text pattern, always may).
pub(super) fn could_answer_in(rules: &Rules, reading: &[usize], text: &str) -> Vec<usize> {
    reading
        .iter()
        .copied()
        .filter(|&i| {
            rules.rules[i]
                .could_answer
                .as_ref()
                .is_none_or(|pattern| pattern.is_match(text))
        })
        .collect()
}

/// A line of a plain text as the facts read it: with the heading it is under and, for a list
/// item, the line that introduces its list ("Information categories we use:").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Line<'a> {
    pub(super) heading: &'a str,
    pub(super) lead_in: &'a str,
    pub(super) text: &'a str,
}

/// The lines of a plain text that sentences are read from, each with its heading and lead-in
/// (headings and underlines themselves are not read).
pub(super) fn lines_under_headings(plain: &str) -> Vec<Line<'_>> {
    let lines: Vec<&str> = plain.lines().collect();
    let mut heading = "";
    let mut lead_in = "";
    let mut read = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let underline = lines
            .get(index + 1)
            .map(|next| next.trim())
            .is_some_and(|next| {
                next.len() >= 3
                    && (next.chars().all(|c| c == '=') || next.chars().all(|c| c == '-'))
            });
        if trimmed.chars().all(|c| c == '=' || c == '-') || is_rule(trimmed) {
            continue;
        }
        // A short title set above a rule is a heading too ("Developing and improving AI at
        // Meta" over "* * *": the purposes of Meta's policies).
        let above_rule = lines[index + 1..]
            .iter()
            .map(|next| next.trim())
            .find(|next| !next.is_empty())
            .is_some_and(is_rule);
        if trimmed.starts_with('#') || underline || (above_rule && is_title(trimmed)) {
            heading = trimmed.trim_start_matches('#').trim();
            lead_in = "";
            continue;
        }
        let is_item = strip_marker(line).len() < trimmed.len();
        if is_item {
            read.push(Line {
                heading,
                lead_in,
                text: line,
            });
            continue;
        }
        read.push(Line {
            heading,
            lead_in: "",
            text: line,
        });
        // A paragraph ending with a colon introduces the list after it; any other ends it.
        lead_in = if trimmed.ends_with(':') { trimmed } else { "" };
    }
    read
}

/// Whether a line is a horizontal rule ("* * *", "---").
fn is_rule(line: &str) -> bool {
    let marks = line.chars().filter(|c| !c.is_whitespace()).count();
    marks >= 3 && line.chars().all(|c| matches!(c, '*' | '-' | '_' | ' '))
}

/// Whether a line reads as a title: a few words from a capital, no closing punctuation.
fn is_title(line: &str) -> bool {
    let words = line.split_whitespace().count();
    (1..=10).contains(&words)
        && line.starts_with(char::is_uppercase)
        && !line.ends_with(['.', ',', ';', ':', '!', '?'])
}

/// [`read_line`] on the lines at `range` of `lines` (heading, line).
pub(super) fn read_lines(
    lines: &[Line<'_>],
    range: std::ops::Range<usize>,
    rules: &Rules,
    reading: &[usize],
    hits: &mut [Vec<Hit>],
) {
    for line in &lines[range] {
        read_line(rules, reading, line, hits);
    }
}

/// The hits of the rules at `reading` in one line: a line is read on its own (a sentence's
/// context is its heading, its list's lead-in and the sentence before it in the same line).
pub(super) fn read_line(
    rules: &Rules,
    reading_all: &[usize],
    line: &Line<'_>,
    hits: &mut [Vec<Hit>],
) {
    // Nor can a rule whose patterns find nothing in the line be answered by one of its
    // sentences (most lines of a policy are about something else).
    let content = strip_marker(line.text);
    let is_item = content.len() < line.text.trim().len();
    let mut reading = could_answer_in(rules, reading_all, line.text);
    if is_item {
        // …unless its heading says the practice (see `heading_says`).
        for rule in could_answer_in(rules, reading_all, line.heading) {
            if !reading.contains(&rule) {
                reading.push(rule);
            }
        }
    }
    if reading.is_empty() {
        return;
    }
    let heading = line.heading;
    // An item of a list of what the reader must not do is a rule for the reader. (Read only
    // when a practice rule finds something: most sentences answer nothing.)
    let lead_in_binds_reader = std::cell::OnceCell::new();
    let mut previous = "";
    for sentence in sentences(content) {
        let sentence = sentence.trim();
        // A question (a heading of a help page: "Do you use my chats to show me ads?") asks;
        // the answer is the sentence after it.
        if sentence.split_whitespace().count() < 3 || sentence.ends_with('?') {
            continue;
        }
        // What a sentence is about may be said by its heading, its list's lead-in or the
        // sentence before it ("We use your chats to train our models. You can opt out in
        // settings."). A value needs its own sentence to say what it measures.
        let near = format!("{}\n{previous}", line.lead_in);
        let in_section = format!("{heading}\n{near}");
        // Not the service's practice: a rule for the reader, or a practice announced for later
        // ("We'll start using interactions with AIs to personalize ads" is a practice from the
        // version that states it as one).
        let not_practice = std::cell::OnceCell::new();
        let is_not_practice = || {
            *not_practice.get_or_init(|| {
                *lead_in_binds_reader.get_or_init(|| addresses_reader(line.lead_in))
                    || addresses_reader(sentence)
                    || announces(sentence)
            })
        };
        previous = sentence;
        for &rule_index in &reading {
            let rule = &rules.rules[rule_index];
            let context = match (rule.kind, rule.source.context) {
                (RuleKind::Value, _) => heading,
                (_, Context::Section) => in_section.as_str(),
                (_, Context::Sentence) => near.as_str(),
            };
            let found = judge(rule, sentence, context)
                .or_else(|| {
                    // An item of a section whose heading says the practice ("Developing and
                    // improving AI at Meta") is what the practice uses, when the item is about
                    // people's data.
                    (is_item
                        && rule.kind == RuleKind::YesNo
                        && rule.source.context == Context::Section)
                        .then(|| heading_says(rule, heading, sentence))
                        .flatten()
                })
                .filter(|_| !(rule.source.practice && is_not_practice()));
            if let Some(says) = found {
                let mut regions = regions_in(sentence);
                if regions.is_empty() {
                    regions = regions_in(heading);
                }
                hits[rule_index].push(Hit {
                    quote: sentence.to_string(),
                    says,
                    regions,
                });
            }
        }
    }
}

/// Whether a sentence announces a practice to come: "we'll start using…", "starting on
/// December 16, we will…".
pub(super) fn announces(sentence: &str) -> bool {
    static ANNOUNCEMENT: OnceLock<Regex> = OnceLock::new();
    ANNOUNCEMENT
        .get_or_init(|| {
            Regex::new(
                r"(?i)\b(we['’]ll|we will|will)\s+(soon\s+)?(start|begin)\b|\b(starting|beginning)( on| from)? (january|february|march|april|may|june|july|august|september|october|november|december|\d{1,2} (january|february|march|april|may|june|july|august|september|october|november|december))\b|\bfrom (january|february|march|april|may|june|july|august|september|october|november|december) \d{1,2}(st|nd|rd|th)?,? (\d{4},? )?we\b",
            )
            .expect("valid announcement pattern")
        })
        .is_match(sentence)
}

/// Whether a sentence states an obligation or prohibition of the reader, developers or
/// customers ("you may not use Output to train…", "Customer shall…", "Meta grants you…"): a
/// rule for them, not the service's practice.
pub(super) fn addresses_reader(sentence: &str) -> bool {
    static OBLIGATION: OnceLock<Regex> = OnceLock::new();
    OBLIGATION
        .get_or_init(|| {
            Regex::new(
                r"(?i)\b(you|developers?|customers?|licensees?|advertisers?|partners?|end users)\b[^.;:]{0,30}?\b(may not|must not|shall not|must|shall|agree (not )?(to|that)|are (not )?(permitted|allowed|prohibited)|will not (do|use|attempt|allow|permit|copy|access))\b|\b(grants?|licen[cs]es?) you\b|\b(you|developers?|customers?)\b[^.;:]{0,80}?\b(may|can) (use|access) (and (use|access) )?(your|the|our) (fine-tun|models?|outputs?|services)|\b(if|when) you use\b[^.;]{0,100}\bto (create|train|fine[- ]tune|develop|improve)\b",
            )
            .expect("valid obligation pattern")
        })
        .is_match(sentence)
}

/// The rules (indices) whose hits may differ between two versions of a document: those with a
/// hit in a line that is in one version and not in the other (a line's hits depend only on the
/// line and its heading, so the lines both versions share give both the same hits, in the same
/// order). Reads only the changed lines — a small part of most changes.
pub(super) fn rules_touched_by_change(
    old: &[Line<'_>],
    new: &[Line<'_>],
    operations: &[similar::DiffOp],
    terms_type: &str,
    rules: &Rules,
) -> Vec<usize> {
    let reading: Vec<usize> = (0..rules.rules.len())
        .filter(|&i| rules.rules[i].reads(terms_type))
        .collect();
    if reading.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<Vec<Hit>> = vec![Vec::new(); rules.rules.len()];
    for operation in operations {
        if matches!(operation.tag(), similar::DiffTag::Equal) {
            continue;
        }
        read_lines(old, operation.old_range(), rules, &reading, &mut hits);
        read_lines(new, operation.new_range(), rules, &reading, &mut hits);
    }
    (0..rules.rules.len())
        .filter(|&i| !hits[i].is_empty())
        .collect()
}

/// The hits of the rules `reading` in a document before and after a change ([`read_plain_for`]
/// on each side), reading the lines the change left alone once for both sides: most of a
/// document. `operations` is the diff of the two sides' lines.
pub(super) fn hits_before_and_after(
    (plain_before, lines_before): (&str, &[Line<'_>]),
    (plain_after, lines_after): (&str, &[Line<'_>]),
    operations: &[similar::DiffOp],
    rules: &Rules,
    reading: &[usize],
) -> (Vec<Vec<Hit>>, Vec<Vec<Hit>>) {
    let no_hits = || vec![Vec::new(); rules.rules.len()];
    let reading_before = could_answer_in(rules, reading, plain_before);
    let reading_after = could_answer_in(rules, reading, plain_after);
    if reading_before != reading_after {
        return (
            read_plain_for(plain_before, lines_before, rules, reading_before, no_hits()),
            read_plain_for(plain_after, lines_after, rules, reading_after, no_hits()),
        );
    }
    let reading = reading_before;
    let (mut before, mut after) = (no_hits(), no_hits());
    if reading.is_empty() {
        return (before, after);
    }
    let mut same_line = no_hits();
    for operation in operations {
        if matches!(operation.tag(), similar::DiffTag::Equal) {
            for index in operation.old_range() {
                read_line(rules, &reading, &lines_before[index], &mut same_line);
                for (rule, hits) in same_line.iter_mut().enumerate() {
                    if !hits.is_empty() {
                        before[rule].extend(hits.iter().cloned());
                        after[rule].append(hits);
                    }
                }
            }
            continue;
        }
        read_lines(
            lines_before,
            operation.old_range(),
            rules,
            &reading,
            &mut before,
        );
        read_lines(
            lines_after,
            operation.new_range(),
            rules,
            &reading,
            &mut after,
        );
    }
    (before, after)
}
