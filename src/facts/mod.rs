//! Policy facts: questions people ask of a service's policies ("does it train AI on my data?
//! can I opt out?"), answered from the recorded texts, each answer with its evidence.
//!
//! A [`rules::Rules`] set (built-in defaults, extended in configuration) says which documents
//! each fact reads and which sentences answer it. [`read_document`] finds, in one version of one
//! document, the sentences that answer each fact ([`Hit`]s: yes, no — a negated yes counts as
//! no — or a value), with the regions they (or their section heading) name. [`answer`] turns the
//! hits of a service's documents into an [`Answer`]: `yes`, `no`, `conflicting`, `not_stated`, or
//! `stated` with a value. [`service_facts`] replays a service's recorded history, so that every
//! answer carries the commit since which it has held, its evidence (the verbatim sentence, the
//! terms type, the commit and date of the version it is in), and, on request, its history.
//!
//! ```
//! use policydiff::facts::{read_document, answer, rules::Rules, AnswerKind};
//!
//! let rules = Rules::with_additions(&[]).unwrap();
//! let text = "# Your data\n\nWe use your conversations with Example AI to train our AI models. \
//!             You can opt out of this use in your settings.";
//! let hits = read_document(text, "Privacy Policy", &rules);
//! let training = rules.rules.iter().position(|r| r.source.id == "ai_training").unwrap();
//! let found = answer(&rules.rules[training], &[("Privacy Policy", "c0ffee", "2026-01-01", &hits[training])]);
//! assert_eq!(found.kind, AnswerKind::Yes);
//! assert_eq!(found.evidence[0].quote, "We use your conversations with Example AI to train our AI models.");
//! ```

pub mod card;
pub mod rules;

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::analyse::{plain_text, sentences};
use crate::record::VersionsRepository;
use rules::{Rule, RuleKind, Rules, WhenBoth};

/// What a sentence says for a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Says {
    /// It does.
    Yes,
    /// It does not (a negated yes, or a no pattern).
    No,
    /// A value (a period, an age).
    Value(String),
}

/// A sentence that answers a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The sentence, verbatim in the version's plain text.
    pub quote: String,
    /// What it says.
    pub says: Says,
    /// Regions the sentence or its section heading names.
    pub regions: Vec<String>,
}

/// An answer's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// The texts say it does.
    Yes,
    /// The texts say it does not.
    No,
    /// The texts say both.
    Conflicting,
    /// The texts give a value (see `value`).
    Stated,
    /// The texts say nothing about it.
    NotStated,
}

impl AnswerKind {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Yes => "yes",
            AnswerKind::No => "no",
            AnswerKind::Conflicting => "conflicting",
            AnswerKind::Stated => "stated",
            AnswerKind::NotStated => "not_stated",
        }
    }
}

/// A quoted sentence an answer rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The document's terms type.
    pub terms_type: String,
    /// The sentence, verbatim.
    pub quote: String,
    /// The commit that recorded the version holding it.
    pub commit: String,
    /// That commit's date (YYYY-MM-DD).
    pub date: String,
    /// What the sentence says (`yes`, `no`, or the value).
    pub says: String,
}

/// The answer to one fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Yes, no, conflicting, stated (a value) or not stated.
    pub kind: AnswerKind,
    /// The value, for value and regions facts.
    pub value: Option<String>,
    /// Regions the answer is limited to (empty: not limited, or none named).
    pub regions: Vec<String>,
    /// The sentences it rests on.
    pub evidence: Vec<Evidence>,
}

impl Answer {
    /// How the answer reads in one line: `yes`, `no (EU/EEA)`, `30 days`…
    pub fn summary(&self) -> String {
        let base = match (&self.kind, &self.value) {
            (AnswerKind::Stated, Some(value)) => value.clone(),
            (kind, _) => kind.as_str().replace('_', " "),
        };
        if self.regions.is_empty() || self.kind == AnswerKind::Stated {
            base
        } else {
            format!("{base} ({})", self.regions.join(", "))
        }
    }

    /// Whether two answers say the same (the evidence may differ).
    pub fn same_as(&self, other: &Answer) -> bool {
        self.kind == other.kind && self.value == other.value && self.regions == other.regions
    }
}

/// Evidence quoted per answer, at most.
const MAX_EVIDENCE: usize = 3;
/// Distinct values reported, at most.
const MAX_VALUES: usize = 3;

/// Regions, as named in texts.
fn region_patterns() -> &'static [(&'static str, Regex)] {
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

fn negation() -> &'static Regex {
    static NEGATION: OnceLock<Regex> = OnceLock::new();
    NEGATION.get_or_init(|| {
        Regex::new(r"(?i)\b(no|not|never|no longer|cannot|can't|won't|don't|doesn't|didn't|isn't|aren't|nor|without)\b")
            .expect("valid negation pattern")
    })
}

fn clause_boundary() -> &'static Regex {
    static BOUNDARY: OnceLock<Regex> = OnceLock::new();
    BOUNDARY.get_or_init(|| {
        Regex::new(r"(?i)[;:(—–]|,\s+(but|however|although|while|whereas|and we|and you|we|you|it|they|which)\b|\b(but|however)\b")
            .expect("valid clause boundary pattern")
    })
}

fn condition() -> &'static Regex {
    static CONDITION: OnceLock<Regex> = OnceLock::new();
    CONDITION.get_or_init(|| {
        Regex::new(r"(?i)\b(if|unless|whether|until|except)\b").expect("valid condition pattern")
    })
}

/// Whether the clause before `at` negates what follows: "we do not use your data to train" —
/// but not "if you do not want us to train…", a condition.
fn is_negated(sentence: &str, at: usize) -> bool {
    let before = sentence[..at].replace('’', "'");
    // A negation reaches across a list ("we do not engage in ads, sell data or …") but not
    // into the next clause ("…, but we use it to train…").
    let clause_start = clause_boundary()
        .find_iter(&before)
        .last()
        .map_or(0, |m| m.end());
    let clause = &before[clause_start..];
    match negation().find(clause) {
        Some(negated) => !condition().is_match(&clause[..negated.start()]),
        None => false,
    }
}

/// What a sentence says for a rule, if anything; `context` (its heading, the sentence before)
/// may meet the rule's `requires`.
fn judge(rule: &Rule, sentence: &str, context: &str) -> Option<Says> {
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
        return Some(if is_negated(sentence, found.start()) {
            Says::No
        } else {
            Says::Yes
        });
    }
    rule.no
        .iter()
        .any(|p| p.is_match(sentence))
        .then_some(Says::No)
}

/// The text of a line without its list, quotation or table marker (still a slice of it).
fn strip_marker(line: &str) -> &str {
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
fn read_document_for(text: &str, terms_type: &str, rules: &Rules, only: &[usize]) -> Vec<Vec<Hit>> {
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
fn read_plain_for(
    plain: &str,
    lines: &[(&str, &str)],
    rules: &Rules,
    reading: Vec<usize>,
    mut hits: Vec<Vec<Hit>>,
) -> Vec<Vec<Hit>> {
    // Rules whose patterns find nothing in the whole text cannot be answered by a sentence.
    let reading = could_answer_in(rules, &reading, plain);
    if reading.is_empty() {
        return hits;
    }
    for &(heading, line) in lines {
        read_line(rules, &reading, heading, line, &mut hits);
    }
    hits
}

/// The rules of `reading` whose patterns find something in `text` (a rule with anchors, which
/// has no whole-text pattern, always may).
fn could_answer_in(rules: &Rules, reading: &[usize], text: &str) -> Vec<usize> {
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

/// The lines of a plain text that sentences are read from, each with the heading it is under
/// (headings and underlines themselves are not read).
fn lines_under_headings(plain: &str) -> Vec<(&str, &str)> {
    let lines: Vec<&str> = plain.lines().collect();
    let mut heading = "";
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
        if trimmed.chars().all(|c| c == '=' || c == '-') {
            continue;
        }
        if trimmed.starts_with('#') || underline {
            heading = trimmed.trim_start_matches('#').trim();
            continue;
        }
        read.push((heading, *line));
    }
    read
}

/// [`read_line`] on the lines at `range` of `lines` (heading, line).
fn read_lines(
    lines: &[(&str, &str)],
    range: std::ops::Range<usize>,
    rules: &Rules,
    reading: &[usize],
    hits: &mut [Vec<Hit>],
) {
    for &(heading, line) in &lines[range] {
        read_line(rules, reading, heading, line, hits);
    }
}

/// The hits of the rules at `reading` in one line under `heading`: a line is read on its own
/// (a sentence's context is its heading and the sentence before it in the same line).
fn read_line(rules: &Rules, reading: &[usize], heading: &str, line: &str, hits: &mut [Vec<Hit>]) {
    // Nor can a rule whose patterns find nothing in the line be answered by one of its
    // sentences (most lines of a policy are about something else).
    let reading = could_answer_in(rules, reading, line);
    if reading.is_empty() {
        return;
    }
    let content = strip_marker(line);
    let mut previous = "";
    for sentence in sentences(content) {
        let sentence = sentence.trim();
        if sentence.split_whitespace().count() < 3 {
            continue;
        }
        // What a sentence is about may be said by its heading or the sentence before it
        // ("We use your chats to train our models. You can opt out in settings.").
        // A value needs its own sentence to say what it measures.
        let with_previous = format!("{heading}\n{previous}");
        previous = sentence;
        for &rule_index in &reading {
            let rule = &rules.rules[rule_index];
            let context = if rule.kind == RuleKind::Value {
                heading
            } else {
                with_previous.as_str()
            };
            if let Some(says) = judge(rule, sentence, context) {
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

/// The rules (indices) whose hits may differ between two versions of a document: those with a
/// hit in a line that is in one version and not in the other (a line's hits depend only on the
/// line and its heading, so the lines both versions share give both the same hits, in the same
/// order). Reads only the changed lines — a small part of most changes.
fn rules_touched_by_change(
    old: &[(&str, &str)],
    new: &[(&str, &str)],
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
fn hits_before_and_after(
    (plain_before, lines_before): (&str, &[(&str, &str)]),
    (plain_after, lines_after): (&str, &[(&str, &str)]),
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
                let (heading, line) = lines_before[index];
                read_line(rules, &reading, heading, line, &mut same_line);
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

/// The answer of a rule from the hits of a service's documents:
/// `(terms type, commit, date, hits)` per document.
pub fn answer(rule: &Rule, documents: &[(&str, &str, &str, &Vec<Hit>)]) -> Answer {
    let evidence_of = |terms_type: &str, commit: &str, date: &str, hit: &Hit| Evidence {
        terms_type: terms_type.to_string(),
        quote: hit.quote.clone(),
        commit: commit.to_string(),
        date: date.to_string(),
        says: match &hit.says {
            Says::Yes => "yes".into(),
            Says::No => "no".into(),
            Says::Value(value) => value.clone(),
        },
    };
    let all: Vec<(&str, &str, &str, &Hit)> = documents
        .iter()
        .flat_map(|(terms_type, commit, date, hits)| {
            hits.iter()
                .map(move |hit| (*terms_type, *commit, *date, hit))
        })
        .collect();
    let not_stated = Answer {
        kind: AnswerKind::NotStated,
        value: None,
        regions: Vec::new(),
        evidence: Vec::new(),
    };
    match rule.kind {
        RuleKind::Value => {
            let mut values: Vec<String> = Vec::new();
            let mut evidence = Vec::new();
            for (terms_type, commit, date, hit) in &all {
                let Says::Value(value) = &hit.says else {
                    continue;
                };
                let value = if hit.regions.is_empty() {
                    value.clone()
                } else {
                    format!("{value} ({})", hit.regions.join(", "))
                };
                if !values.contains(&value) && values.len() < MAX_VALUES {
                    values.push(value);
                    evidence.push(evidence_of(terms_type, commit, date, hit));
                }
            }
            if values.is_empty() {
                return not_stated;
            }
            Answer {
                kind: AnswerKind::Stated,
                value: Some(values.join("; ")),
                regions: Vec::new(),
                evidence,
            }
        }
        RuleKind::Regions => {
            let offering: Vec<&(&str, &str, &str, &Hit)> = all
                .iter()
                .filter(|(_, _, _, hit)| hit.says == Says::Yes)
                .collect();
            if offering.is_empty() {
                return not_stated;
            }
            let mut regions: Vec<String> = Vec::new();
            let mut evidence = Vec::new();
            let mut unqualified = false;
            for (terms_type, commit, date, hit) in &offering {
                let new_region = hit.regions.iter().any(|r| !regions.contains(r));
                if hit.regions.is_empty() {
                    unqualified = true;
                }
                for region in &hit.regions {
                    if !regions.contains(region) {
                        regions.push(region.clone());
                    }
                }
                if (new_region || evidence.is_empty()) && evidence.len() < MAX_EVIDENCE {
                    evidence.push(evidence_of(terms_type, commit, date, hit));
                }
            }
            let value = match (regions.is_empty(), unqualified) {
                (true, _) => "no region named".to_string(),
                (false, true) => format!("{} (and without a region named)", regions.join(", ")),
                (false, false) => regions.join(", "),
            };
            Answer {
                kind: AnswerKind::Stated,
                value: Some(value),
                regions,
                evidence,
            }
        }
        RuleKind::YesNo => {
            let yes: Vec<_> = all
                .iter()
                .filter(|(_, _, _, h)| h.says == Says::Yes)
                .collect();
            let no: Vec<_> = all
                .iter()
                .filter(|(_, _, _, h)| h.says == Says::No)
                .collect();
            let kind = match (yes.is_empty(), no.is_empty()) {
                (true, true) => return not_stated,
                (false, true) => AnswerKind::Yes,
                (true, false) => AnswerKind::No,
                (false, false) => match rule.source.when_both {
                    WhenBoth::Conflicting => AnswerKind::Conflicting,
                    WhenBoth::Yes => AnswerKind::Yes,
                },
            };
            let deciding: Vec<_> = match kind {
                AnswerKind::No => no.clone(),
                _ => yes.clone(),
            };
            // Limited to regions only when every deciding sentence names some.
            let mut regions: Vec<String> = Vec::new();
            if deciding.iter().all(|(_, _, _, h)| !h.regions.is_empty()) {
                for (_, _, _, hit) in &deciding {
                    for region in &hit.regions {
                        if !regions.contains(region) {
                            regions.push(region.clone());
                        }
                    }
                }
            }
            // The evidence: deciding sentences first, then (for both) one of the others.
            let mut evidence: Vec<Evidence> = deciding
                .iter()
                .take(if kind == AnswerKind::Yes && !no.is_empty() {
                    MAX_EVIDENCE - 1
                } else {
                    MAX_EVIDENCE
                })
                .map(|(t, c, d, h)| evidence_of(t, c, d, h))
                .collect();
            if kind != AnswerKind::No
                && let Some((t, c, d, h)) = no.first()
            {
                evidence.push(evidence_of(t, c, d, h));
            }
            Answer {
                kind,
                value: None,
                regions,
                evidence,
            }
        }
    }
}

/// The commit and date from which an answer has held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    /// The commit.
    pub commit: String,
    /// Its date (YYYY-MM-DD).
    pub date: String,
}

/// A fact's answer for a service, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactReport {
    /// The fact's id.
    pub id: String,
    /// Its question.
    pub question: String,
    /// `yes`, `no`, `conflicting`, `stated` (see `value`) or `not_stated`.
    pub answer: AnswerKind,
    /// The value, for value and regions facts.
    pub value: Option<String>,
    /// Regions the answer is limited to.
    pub regions: Vec<String>,
    /// Since when the answer has held.
    pub since: Option<Since>,
    /// The sentences it rests on.
    pub evidence: Vec<Evidence>,
    /// The card's badge text for this answer, when the rule gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge: Option<String>,
}

impl FactReport {
    /// How the answer reads in one line.
    pub fn summary(&self) -> String {
        Answer {
            kind: self.answer,
            value: self.value.clone(),
            regions: self.regions.clone(),
            evidence: Vec::new(),
        }
        .summary()
    }
}

/// A change of a fact's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactChange {
    /// The fact's id.
    pub id: String,
    /// Its question.
    pub question: String,
    /// The service.
    pub service: String,
    /// The commit that changed it.
    pub commit: String,
    /// Its date (YYYY-MM-DD).
    pub date: String,
    /// The document whose change changed the answer.
    pub terms_type: String,
    /// The answer before, in one line (`not stated` for the first record).
    pub from: String,
    /// The answer after.
    pub to: String,
    /// The sentences the new answer rests on (or the old one, when it is now not stated).
    pub evidence: Vec<Evidence>,
}

/// A service's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFacts {
    /// The service id.
    pub service: String,
    /// The last successful fetch of its documents (else the last commit date).
    pub last_verified: Option<String>,
    /// Every fact's answer.
    pub facts: Vec<FactReport>,
    /// Each change of an answer, oldest first (with `--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<FactChange>>,
}

/// One document's current version during a replay.
struct Current {
    terms_type: String,
    commit: String,
    date: String,
    blob: git2::Oid,
}

/// Hits of versions already read, by blob: a text read once, whatever the replay.
pub type HitCache = HashMap<git2::Oid, Vec<Vec<Hit>>>;

/// The facts of a service at `at` (default: the latest version of each document), replaying
/// its recorded history so that each answer knows since when it has held.
pub fn service_facts(
    repository: &VersionsRepository,
    service: &str,
    rules: &Rules,
    at: Option<DateTime<Utc>>,
    cache: &mut HitCache,
) -> Result<ServiceFacts> {
    let changes = repository.service_changes(service)?;
    let mut current: Vec<Current> = Vec::new();
    let mut answers: Vec<Option<(Answer, Since)>> = vec![None; rules.rules.len()];
    let mut history = Vec::new();
    let mut last_commit_date = None;
    for change in changes {
        if at.is_some_and(|at| change.date > at) {
            break;
        }
        let date = change.date.format("%Y-%m-%d").to_string();
        last_commit_date = Some(
            change
                .date
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        if !rules.rules.iter().any(|r| r.reads(&change.terms_type)) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(entry) = cache.entry(change.blob) {
            let text = repository.blob_text(change.blob)?;
            entry.insert(read_document(&text, &change.terms_type, rules));
        }
        match current
            .iter_mut()
            .find(|c| c.terms_type == change.terms_type)
        {
            Some(document) => {
                document.commit = change.commit.clone();
                document.date = date.clone();
                document.blob = change.blob;
            }
            None => current.push(Current {
                terms_type: change.terms_type.clone(),
                commit: change.commit.clone(),
                date: date.clone(),
                blob: change.blob,
            }),
        }
        for (index, rule) in rules.rules.iter().enumerate() {
            if !rule.reads(&change.terms_type) {
                continue;
            }
            let documents: Vec<(&str, &str, &str, &Vec<Hit>)> = current
                .iter()
                .filter(|c| rule.reads(&c.terms_type))
                .map(|c| {
                    (
                        c.terms_type.as_str(),
                        c.commit.as_str(),
                        c.date.as_str(),
                        &cache[&c.blob][index],
                    )
                })
                .collect();
            let new = answer(rule, &documents);
            let changed = match &answers[index] {
                Some((old, _)) => !old.same_as(&new),
                None => new.kind != AnswerKind::NotStated,
            };
            if changed {
                let from = answers[index]
                    .as_ref()
                    .map_or_else(|| "not stated".to_string(), |(old, _)| old.summary());
                let evidence = if new.evidence.is_empty() {
                    answers[index]
                        .as_ref()
                        .map(|(old, _)| old.evidence.clone())
                        .unwrap_or_default()
                } else {
                    new.evidence.clone()
                };
                history.push(FactChange {
                    id: rule.source.id.clone(),
                    question: rule.source.question.clone(),
                    service: service.to_string(),
                    commit: change.commit.clone(),
                    date: date.clone(),
                    terms_type: change.terms_type.clone(),
                    from,
                    to: new.summary(),
                    evidence,
                });
                answers[index] = Some((
                    new,
                    Since {
                        commit: change.commit.clone(),
                        date: date.clone(),
                    },
                ));
            } else if let Some((old, _)) = &mut answers[index] {
                // Same answer, fresher evidence (the sentence may have moved to a newer version).
                *old = new;
            }
        }
    }
    let facts = rules
        .rules
        .iter()
        .zip(answers)
        .map(|(rule, found)| {
            let (answer, since) = match found {
                Some((answer, since)) => (answer, Some(since)),
                None => (
                    Answer {
                        kind: AnswerKind::NotStated,
                        value: None,
                        regions: Vec::new(),
                        evidence: Vec::new(),
                    },
                    None,
                ),
            };
            FactReport {
                id: rule.source.id.clone(),
                question: rule.source.question.clone(),
                answer: answer.kind,
                badge: rule.source.badge.get(answer.kind.as_str()).cloned(),
                value: answer.value,
                regions: answer.regions,
                since,
                evidence: answer.evidence,
            }
        })
        .collect();
    Ok(ServiceFacts {
        service: service.to_string(),
        last_verified: last_commit_date,
        facts,
        history: Some(history),
    })
}

/// The changes of a service's answers made by one commit (none for a first record or a
/// technical upgrade: the tracker began to read, or read differently; the policy did not change).
pub fn changes_at_commit(
    repository: &VersionsRepository,
    service: &str,
    rules: &Rules,
    commit: &str,
) -> Result<Vec<FactChange>> {
    let changes = repository.service_changes(service)?;
    let Some(at) = changes.iter().position(|change| {
        change.commit == commit
            && matches!(
                change.kind(),
                crate::record::VersionKind::NewChanges | crate::record::VersionKind::Revert
            )
    }) else {
        return Ok(Vec::new());
    };
    // The service's documents as they stood just before the commit (each terms type's latest
    // version, in the order they were first recorded, as a replay has them).
    let mut before: Vec<&crate::record::VersionChange> = Vec::new();
    for change in &changes[..at] {
        match before
            .iter_mut()
            .find(|c| c.terms_type == change.terms_type)
        {
            Some(latest) => *latest = change,
            None => before.push(change),
        }
    }
    let change = &changes[at];
    let terms_type = &change.terms_type;
    let Some(previous) = before.iter().find(|c| &c.terms_type == terms_type) else {
        return changes_in_history(repository, service, rules, commit);
    };
    // Most changes do not touch a sentence any rule answers from: when the document's hits are
    // the same before and after, no answer can have changed.
    let (text_before, text_after) = (
        repository.blob_text(previous.blob)?,
        repository.blob_text(change.blob)?,
    );
    let (plain_before, plain_after) = (plain_text(&text_before), plain_text(&text_after));
    let (lines_before, lines_after) = (
        lines_under_headings(&plain_before),
        lines_under_headings(&plain_after),
    );
    let operations =
        similar::capture_diff_slices(similar::Algorithm::Myers, &lines_before, &lines_after);
    let touched =
        rules_touched_by_change(&lines_before, &lines_after, &operations, terms_type, rules);
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    let (hits_before, hits_after) = hits_before_and_after(
        (&plain_before, &lines_before),
        (&plain_after, &lines_after),
        &operations,
        rules,
        &touched,
    );
    let changed: Vec<usize> = touched
        .into_iter()
        .filter(|&i| hits_before[i] != hits_after[i])
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    // An answer depends only on the service's current documents, so the answers just before
    // and just after the commit tell what it changed — no replay of the whole history. The
    // other documents are read with the changed rules alone.
    let mut others: Vec<Vec<Vec<Hit>>> = Vec::with_capacity(before.len());
    for document in &before {
        if &document.terms_type == terms_type
            || !changed
                .iter()
                .any(|&i| rules.rules[i].reads(&document.terms_type))
        {
            others.push(Vec::new());
            continue;
        }
        let text = repository.blob_text(document.blob)?;
        others.push(read_document_for(
            &text,
            &document.terms_type,
            rules,
            &changed,
        ));
    }
    let dates: Vec<String> = before
        .iter()
        .map(|c| c.date.format("%Y-%m-%d").to_string())
        .collect();
    let date = change.date.format("%Y-%m-%d").to_string();
    let mut found = Vec::new();
    for &index in &changed {
        let rule = &rules.rules[index];
        let documents = |after: bool| -> Vec<(&str, &str, &str, &Vec<Hit>)> {
            before
                .iter()
                .zip(&dates)
                .zip(&others)
                .filter(|((c, _), _)| rule.reads(&c.terms_type))
                .map(|((c, day), hits)| {
                    if &c.terms_type != terms_type {
                        (
                            c.terms_type.as_str(),
                            c.commit.as_str(),
                            day.as_str(),
                            &hits[index],
                        )
                    } else if after {
                        (
                            terms_type.as_str(),
                            change.commit.as_str(),
                            date.as_str(),
                            &hits_after[index],
                        )
                    } else {
                        (
                            terms_type.as_str(),
                            c.commit.as_str(),
                            day.as_str(),
                            &hits_before[index],
                        )
                    }
                })
                .collect()
        };
        let old = answer(rule, &documents(false));
        let new = answer(rule, &documents(true));
        if old.same_as(&new) {
            continue;
        }
        found.push(FactChange {
            id: rule.source.id.clone(),
            question: rule.source.question.clone(),
            service: service.to_string(),
            commit: change.commit.clone(),
            date: date.clone(),
            terms_type: terms_type.clone(),
            from: old.summary(),
            to: new.summary(),
            evidence: if new.evidence.is_empty() {
                old.evidence
            } else {
                new.evidence
            },
        });
    }
    Ok(found)
}

/// The answer changes a commit made, from a replay of the service's history.
fn changes_in_history(
    repository: &VersionsRepository,
    service: &str,
    rules: &Rules,
    commit: &str,
) -> Result<Vec<FactChange>> {
    let facts = service_facts(repository, service, rules, None, &mut HitCache::new())?;
    Ok(facts
        .history
        .unwrap_or_default()
        .into_iter()
        .filter(|change| change.commit == commit)
        .collect())
}

/// The log of answer changes announced after rounds: `fact-changes.jsonl` in the memos folder,
/// one [`FactChange`] per line, appended.
#[derive(Debug, Clone)]
pub struct FactLog {
    lines: crate::basics::JsonLines,
}

impl FactLog {
    /// The log in the memos folder.
    pub fn in_dir(memos: &std::path::Path) -> Self {
        FactLog {
            lines: crate::basics::JsonLines::at(crate::basics::state_files::fact_changes(memos)),
        }
    }

    /// Appends changes (a change already logged, same fact and commit, is not logged twice).
    pub fn append(&self, changes: &[FactChange]) -> Result<()> {
        let logged = self.read()?;
        let new: Vec<&FactChange> = changes
            .iter()
            .filter(|c| {
                !logged
                    .iter()
                    .any(|l| l.id == c.id && l.commit == c.commit && l.service == c.service)
            })
            .collect();
        self.lines.append(&new)
    }

    /// Every logged change, oldest first (unreadable lines are skipped).
    pub fn read(&self) -> Result<Vec<FactChange>> {
        self.lines.read_all()
    }

    /// The latest `count` logged changes, oldest first.
    pub fn recent(&self, count: usize) -> Result<Vec<FactChange>> {
        self.lines.recent(count)
    }
}

/// Every service of the repository (or the one named), in id order.
pub fn repository_facts(
    repository: &VersionsRepository,
    service: Option<&str>,
    rules: &Rules,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<ServiceFacts>> {
    let mut services: Vec<String> = repository
        .version_changes(None)?
        .into_iter()
        .map(|c| c.service_id)
        .collect();
    services.sort();
    services.dedup();
    if let Some(wanted) = service {
        services.retain(|s| s == wanted);
        if services.is_empty() {
            return Err(crate::Error::argument(format!(
                "the repository holds no service '{wanted}'; `policydiff services` lists them"
            )));
        }
    }
    let mut cache = HitCache::new();
    services
        .iter()
        .map(|service| service_facts(repository, service, rules, at, &mut cache))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::with_additions(&[]).unwrap()
    }

    #[test]
    fn lines_a_change_left_alone_give_the_hits_they_gave_before() {
        let rules = rules();
        let reading: Vec<usize> = (0..rules.rules.len()).collect();
        let before = "Privacy Policy\n==============\n\n## How we use your data\n\n\
            We use your conversations to train our AI models. You can opt out in Settings.\n\n\
            We keep your data for 30 days.\n\n## Sharing\n\nWe do not sell your personal data.";
        for after in [
            // A sentence added among others that answer facts.
            before.replace(
                "We keep your data",
                "We use your interactions with AI features to personalise ads.\n\nWe keep your data",
            ),
            // A sentence that answered removed, another rewritten.
            before
                .replace("We do not sell your personal data.", "")
                .replace("30 days", "90 days"),
            // Nothing that any rule reads.
            before.replace("## Sharing", "## Who we share with"),
        ] {
            let (plain_before, plain_after) = (plain_text(before), plain_text(&after));
            let lines_before = lines_under_headings(&plain_before);
            let lines_after = lines_under_headings(&plain_after);
            let operations = similar::capture_diff_slices(
                similar::Algorithm::Myers,
                &lines_before,
                &lines_after,
            );
            let each_side = |plain: &str, lines: &[(&str, &str)]| {
                read_plain_for(
                    plain,
                    lines,
                    &rules,
                    reading.clone(),
                    vec![Vec::new(); rules.rules.len()],
                )
            };
            let (hits_before, hits_after) = hits_before_and_after(
                (&plain_before, &lines_before),
                (&plain_after, &lines_after),
                &operations,
                &rules,
                &reading,
            );
            assert_eq!(hits_before, each_side(&plain_before, &lines_before));
            assert_eq!(hits_after, each_side(&plain_after, &lines_after));
            assert!(hits_after.iter().any(|hits| !hits.is_empty()), "{after}");
        }
    }

    fn says(id: &str, text: &str) -> Vec<(Says, Vec<String>)> {
        let rules = rules();
        let index = rules.rules.iter().position(|r| r.source.id == id).unwrap();
        read_document(text, "Privacy Policy", &rules)[index]
            .iter()
            .map(|h| (h.says.clone(), h.regions.clone()))
            .collect()
    }

    #[test]
    fn a_sentence_says_yes_and_its_negation_says_no() {
        assert_eq!(
            says(
                "ai_training",
                "We use your conversations with X to train our AI models."
            ),
            [(Says::Yes, vec![])]
        );
        assert_eq!(
            says(
                "ai_training",
                "We do not use your conversations to train our AI models."
            ),
            [(Says::No, vec![])]
        );
        assert_eq!(
            says(
                "ai_training",
                "We don’t use your content to train generative AI models."
            ),
            [(Says::No, vec![])]
        );
        // A condition is not a denial.
        assert_eq!(
            says(
                "ai_training_opt_out",
                "If you do not want us to use your data to train our models, you can opt out in settings."
            ),
            [(Says::Yes, vec![])]
        );
        assert_eq!(
            says(
                "ai_training_opt_out",
                "You cannot opt out of the use of your data for AI training."
            ),
            [(Says::No, vec![])]
        );
        assert_eq!(
            says(
                "sells_personal_data",
                "We do not sell your personal information."
            ),
            [(Says::No, vec![])]
        );
        // The opt-out link of US state laws is not a statement.
        assert!(
            says(
                "sells_personal_data",
                "Do Not Sell or Share My Personal Information."
            )
            .is_empty()
        );
        // A negation reaches across a list, not into the next clause.
        assert_eq!(
            says(
                "sells_personal_data",
                "NOTE WE DO NOT ENGAGE IN TARGETED ADVERTISING, “SELL” PERSONAL DATA OR USE IT."
            ),
            [(Says::No, vec![])]
        );
        assert_eq!(
            says(
                "ai_training",
                "We do not sell your data, but we use your chats to train our AI models."
            ),
            [(Says::Yes, vec![])]
        );
        assert_eq!(
            says(
                "sells_personal_data",
                "No Selling Personal Information. Brevo does not and will never sell your Personal Information to third parties."
            ),
            [(Says::No, vec![]), (Says::No, vec![])]
        );
        // Unrelated sentences say nothing.
        assert!(says("ai_training", "We train our staff on privacy every year.").is_empty());
    }

    #[test]
    fn lists_and_regions_from_the_sentence_or_its_heading() {
        let text = "Your rights in the EEA and UK\n=============================\n\n\
                    *   You have the right to object to our processing of your data.\n\n\
                    ## California\n\nYou may opt out of the sale of your data.";
        assert_eq!(
            says("objection_right_regions", text),
            [
                (Says::Yes, vec!["EU/EEA".to_string(), "UK".to_string()]),
                (Says::Yes, vec!["California".to_string()]),
            ]
        );
        assert!(regions_in("HOW TO CONTACT US").is_empty());
        assert_eq!(regions_in("users in the US"), ["US"]);
    }

    #[test]
    fn values_are_read_and_answers_combine_documents() {
        let rules = rules();
        let index = |id: &str| rules.rules.iter().position(|r| r.source.id == id).unwrap();
        let privacy = read_document(
            "We keep your chats for 30 days, then delete them. You must be at least 13 years old to use the service.",
            "Privacy Policy",
            &rules,
        );
        let retention = answer(
            &rules.rules[index("retention_period")],
            &[(
                "Privacy Policy",
                "abc",
                "2026-01-01",
                &privacy[index("retention_period")],
            )],
        );
        assert_eq!(retention.kind, AnswerKind::Stated);
        assert_eq!(retention.value.as_deref(), Some("30 days"));
        let age = answer(
            &rules.rules[index("minimum_age")],
            &[(
                "Privacy Policy",
                "abc",
                "2026-01-01",
                &privacy[index("minimum_age")],
            )],
        );
        assert_eq!(age.value.as_deref(), Some("13"));

        // One document sells, the other says it does not: flagged.
        let other = read_document(
            "We do not sell your personal data.",
            "Privacy Policy",
            &rules,
        );
        let selling = read_document(
            "We may sell your personal data to partners.",
            "Privacy Policy",
            &rules,
        );
        let i = index("sells_personal_data");
        let both = answer(
            &rules.rules[i],
            &[
                ("Privacy Policy", "a", "2026-01-01", &selling[i]),
                ("Privacy Policy", "b", "2026-01-02", &other[i]),
            ],
        );
        assert_eq!(both.kind, AnswerKind::Conflicting);
        assert_eq!(both.evidence.len(), 2);
        let nothing = answer(
            &rules.rules[i],
            &[("Privacy Policy", "a", "2026-01-01", &privacy[i])],
        );
        assert_eq!(nothing.kind, AnswerKind::NotStated);
        assert!(nothing.evidence.is_empty());
    }
}
