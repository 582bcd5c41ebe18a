//! Development figures for policy facts, on `../shared/corpora/facts-devset` (hand-checked
//! answers over the genai-eu-versions bundle, some at past dates, with tricky negatives).
//!
//! Run: `cargo run --release --example facts_devset [-- DEVSET_DIR BUNDLE]`.
//!
//! For each case it answers the fact for the service with the texts in force at the end of the
//! case's day, as `policydiff facts --at` does, and prints, by fact and for the whole set:
//! - yes/no precision: of our yes and no answers, the share the set accepts (a yes or no on a
//!   case labelled not stated counts against it);
//! - yes/no recall: of the cases labelled yes or no, the share we answer as accepted;
//! - value accuracy: of the cases labelled with a value, the share with an accepted value
//!   (digits compared, ages as integers; any of our values may match), and how often we give a
//!   value where the set says none is stated;
//! - the same for the sure cases, the tricky ones, and the past-date cases whose answer differs
//!   from the current one.
//!
//! `FACTS_DEVSET_SHOW=1` prints every miss with our answer and first evidence.
//!
//! The rules are hand-written, not fitted, so there is nothing to cross-validate: these figures
//! guide work on the readers and are not targets to tune single cases to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use policydiff::facts::{AnswerKind, HitCache, rules::Rules, service_facts};
use policydiff::record::VersionsRepository;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    service: String,
    fact: String,
    at: String,
    answer: String,
    value: Option<String>,
    accept: Vec<String>,
    #[serde(default)]
    accept_values: Vec<String>,
    #[serde(default)]
    unsure: bool,
    #[serde(default)]
    tricky: bool,
    #[serde(default)]
    differs_from_latest: bool,
}

/// Counts for one group of cases.
#[derive(Default)]
struct Tally {
    cases: usize,
    said_yes_no: usize,
    said_yes_no_right: usize,
    labelled_yes_no: usize,
    labelled_yes_no_right: usize,
    labelled_value: usize,
    value_right: usize,
    value_when_not_stated: usize,
    right: usize,
}

impl Tally {
    fn add(&mut self, case: &Case, ours: &str, values: &[String]) {
        self.cases += 1;
        let accepted = case.accept.iter().any(|a| a == ours);
        let value_accepted = values.iter().any(|v| {
            std::iter::once(case.value.as_deref().unwrap_or(""))
                .chain(case.accept_values.iter().map(String::as_str))
                .any(|accepted| same_value(v, accepted))
        });
        if ours == "yes" || ours == "no" {
            self.said_yes_no += 1;
            self.said_yes_no_right += usize::from(accepted);
        }
        if case.answer == "yes" || case.answer == "no" {
            self.labelled_yes_no += 1;
            self.labelled_yes_no_right += usize::from(accepted);
        }
        if case.answer == "value" {
            self.labelled_value += 1;
            self.value_right += usize::from(value_accepted);
        } else if case.value.is_none() && !values.is_empty() && case.answer == "not_stated" {
            self.value_when_not_stated += 1;
        }
        self.right += usize::from(if case.answer == "value" {
            value_accepted
        } else {
            accepted
        });
    }

    fn line(&self, name: &str) -> String {
        let share = |n: usize, of: usize| {
            if of == 0 {
                "   -".to_string()
            } else {
                format!("{:>3.0}%", 100.0 * n as f64 / of as f64)
            }
        };
        format!(
            "{name:<26} {:>3} cases  right {}  yes/no precision {} ({}/{})  recall {} ({}/{})  values {} ({}/{}){}",
            self.cases,
            share(self.right, self.cases),
            share(self.said_yes_no_right, self.said_yes_no),
            self.said_yes_no_right,
            self.said_yes_no,
            share(self.labelled_yes_no_right, self.labelled_yes_no),
            self.labelled_yes_no_right,
            self.labelled_yes_no,
            share(self.value_right, self.labelled_value),
            self.value_right,
            self.labelled_value,
            if self.value_when_not_stated > 0 {
                format!("  value on not-stated {}", self.value_when_not_stated)
            } else {
                String::new()
            }
        )
    }
}

/// Numbers written out as digits, lower case, spaces single: "thirty (30) days" → "30 days".
fn normalised(value: &str) -> String {
    const NUMBERS: &[(&str, &str)] = &[
        ("one", "1"),
        ("two", "2"),
        ("three", "3"),
        ("four", "4"),
        ("five", "5"),
        ("six", "6"),
        ("seven", "7"),
        ("eight", "8"),
        ("nine", "9"),
        ("ten", "10"),
        ("twelve", "12"),
        ("thirteen", "13"),
        ("sixteen", "16"),
        ("eighteen", "18"),
        ("thirty", "30"),
    ];
    let lower = value.to_lowercase().replace(['(', ')'], " ");
    let mut words: Vec<String> = Vec::new();
    for word in lower.split_whitespace() {
        let word = NUMBERS
            .iter()
            .find(|(name, _)| *name == word)
            .map_or(word, |(_, digits)| digits);
        // "thirty (30) days": the number said twice is one number.
        if words.last().is_some_and(|last| last == word) {
            continue;
        }
        words.push(word.to_string());
    }
    words.join(" ")
}

fn same_value(ours: &str, accepted: &str) -> bool {
    let (ours, accepted) = (normalised(ours), normalised(accepted));
    match (ours.parse::<u32>(), accepted.parse::<u32>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => ours == accepted || ours.trim_end_matches('s') == accepted.trim_end_matches('s'),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let devset = args.next().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/facts-devset")
    });
    let bundle = args.next().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/genai-eu-versions.bundle")
    });
    let cases: Vec<Case> = serde_json::from_str(
        &std::fs::read_to_string(devset.join("labels.json")).expect("labels.json"),
    )
    .expect("labels.json is a list of cases");
    let clone = tempfile::tempdir().expect("a temporary folder");
    let repo_path = clone.path().join("genai");
    let cloned = std::process::Command::new("git")
        .args(["-c", "init.defaultBranch=main", "clone", "-q"])
        .arg(&bundle)
        .arg(&repo_path)
        .status()
        .expect("git");
    assert!(cloned.success(), "git clone of {}", bundle.display());
    let repository = VersionsRepository::open(&repo_path).expect("the genai clone");
    let rules = Rules::with_additions(&[]).expect("the built-in rules");
    let show = std::env::var_os("FACTS_DEVSET_SHOW").is_some();

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut cache = HitCache::new();
    for case in &cases {
        let day = NaiveDate::parse_from_str(&case.at, "%Y-%m-%d").expect("a date");
        let end_of_day = Utc.from_utc_datetime(&day.and_hms_opt(23, 59, 59).expect("a time"));
        let facts = service_facts(
            &repository,
            &case.service,
            &rules,
            Some(end_of_day),
            &mut cache,
        )
        .expect("the service's facts");
        let Some(report) = facts.facts.iter().find(|f| f.id == case.fact) else {
            println!("no rule for fact {}", case.fact);
            continue;
        };
        let ours = match report.answer {
            AnswerKind::Yes => "yes",
            AnswerKind::No => "no",
            AnswerKind::Conflicting => "conflicting",
            AnswerKind::Stated => "value",
            AnswerKind::NotStated => "not_stated",
        };
        let values: Vec<String> = report
            .value
            .as_deref()
            .map(|v| v.split(';').map(|v| v.trim().to_string()).collect())
            .unwrap_or_default();
        let mut groups = vec!["all".to_string(), format!("fact {}", case.fact)];
        if !case.unsure {
            groups.push("sure".into());
        }
        if case.tricky {
            groups.push("tricky".into());
        }
        if case.differs_from_latest {
            groups.push("differs from latest".into());
        }
        let before = tallies.get("all").map_or(0, |t| t.right);
        for group in groups {
            tallies.entry(group).or_default().add(case, ours, &values);
        }
        let right = tallies["all"].right > before;
        if show && !right {
            println!(
                "miss {} {} at {}: labelled {}{}; ours {}{}\n    {}",
                case.service,
                case.fact,
                case.at,
                case.answer,
                case.value
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default(),
                ours,
                report
                    .value
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default(),
                report
                    .evidence
                    .first()
                    .map(|e| format!("{}: {}", e.terms_type, e.quote))
                    .unwrap_or_default()
            );
        }
    }
    for name in ["all", "sure", "tricky", "differs from latest"] {
        if let Some(tally) = tallies.get(name) {
            println!("{}", tally.line(name));
        }
    }
    for (name, tally) in &tallies {
        if name.starts_with("fact ") {
            println!("{}", tally.line(name));
        }
    }
}
